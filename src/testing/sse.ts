/** Server-sent events as both providers frame them. */

/** One SSE event. `event` absent = a bare `data:` event (OpenAI style). */
export interface SseEvent {
  event?: string;
  /** The `data:` payload, already serialised. */
  data: string;
}

/** Builds an event whose data is `JSON.stringify(payload)`. */
export function jsonEvent(payload: unknown, event?: string): SseEvent {
  return event === undefined ? { data: JSON.stringify(payload) } : { event, data: JSON.stringify(payload) };
}

/** Serialises an event: optional `event:` line, one `data:` line per payload line, blank line. */
export function formatSseEvent(event: SseEvent): string {
  const head = event.event === undefined ? '' : `event: ${event.event}\n`;
  const data = event.data
    .split('\n')
    .map((line) => `data: ${line}`)
    .join('\n');
  return `${head}${data}\n\n`;
}

/** Response headers of an SSE answer. */
export const SSE_HEADERS: Readonly<Record<string, string>> = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache',
};
