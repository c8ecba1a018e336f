import { contentText, partMediaType, partSource, resolveSource, toBase64 } from '../request/contentParts.js';
import type { ContentPart, FinishReason, Message, ProviderResponse } from '../request/types.js';

/**
 * Prompt and completion content in the GenAI semantic conventions v1.41.0 JSON shapes
 * (`gen_ai.input.messages`, `gen_ai.output.messages`). Only used when the user opted in to
 * content capture; never holds anything but the messages themselves.
 */

type Part =
  | { type: 'text'; content: string }
  | { type: 'uri'; modality: string; mime_type?: string; uri: string }
  | { type: 'blob'; modality: string; mime_type?: string; content?: string; size_bytes: number; truncated?: true }
  | { type: 'tool_call'; id: string; name: string; arguments: unknown }
  | { type: 'tool_call_response'; id: string; response: unknown };

interface ChatMessage {
  role: string;
  parts: Part[];
}

interface OutputMessage extends ChatMessage {
  finish_reason: string;
}

/** Blobs up to this size are recorded whole (base64); larger ones only by type and size. */
export const MAX_CAPTURED_BLOB_BYTES = 1024;

/**
 * Images and files as the conventions' `uri` / `blob` parts. Even with capture on, a span never
 * carries a large blob (a 20 MB screenshot would be dropped by every exporter, or worse, kept):
 * above MAX_CAPTURED_BLOB_BYTES only its media type and size are recorded. A URL is recorded
 * without its query and fragment, where signed URLs keep their credentials.
 */
function capturedPart(part: ContentPart): Part {
  if (part.type === 'text') return { type: 'text', content: part.text };
  const modality = part.type === 'image' ? 'image' : 'document';
  const source = resolveSource(partSource(part));
  const mediaType = source && partMediaType(part, source);
  const mime = mediaType !== undefined ? { mime_type: mediaType } : {};
  if (!source) return { type: 'blob', modality, ...mime, size_bytes: 0, truncated: true };
  if (source.kind === 'url') {
    const url = new URL(source.url);
    return { type: 'uri', modality, ...mime, uri: `${url.origin}${url.pathname}` };
  }
  const size = source.bytes.byteLength;
  if (size > MAX_CAPTURED_BLOB_BYTES) return { type: 'blob', modality, ...mime, size_bytes: size, truncated: true };
  return { type: 'blob', modality, ...mime, content: toBase64(source.bytes), size_bytes: size };
}

/** Tool arguments are JSON text from the model; record them as JSON when they parse. */
function parseArguments(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

export function inputMessagesJson(messages: readonly Message[]): string {
  const out: ChatMessage[] = [];
  for (const message of messages) {
    switch (message.role) {
      case 'system':
      case 'developer':
        out.push({ role: 'system', parts: [{ type: 'text', content: message.content }] });
        break;
      case 'user':
        out.push({ role: 'user', parts: typeof message.content === 'string' ? [{ type: 'text', content: message.content }] : message.content.map(capturedPart) });
        break;
      case 'assistant': {
        const parts: Part[] = [];
        if (message.content) parts.push({ type: 'text', content: message.content });
        for (const call of message.toolCalls ?? []) {
          parts.push({ type: 'tool_call', id: call.id, name: call.name, arguments: parseArguments(call.arguments) });
        }
        out.push({ role: 'assistant', parts });
        break;
      }
      case 'tool':
        out.push({
          role: 'tool',
          parts: [
            { type: 'tool_call_response', id: message.toolCallId, response: contentText(message.content) },
            ...(typeof message.content === 'string' ? [] : message.content.filter((p) => p.type !== 'text').map(capturedPart)),
          ],
        });
        break;
    }
  }
  return JSON.stringify(out);
}

/** The conventions' finish-reason values (`tool_call`, not OpenAI's `tool_calls`). */
const FINISH_REASON: Record<FinishReason, string> = {
  stop: 'stop',
  length: 'length',
  tool_calls: 'tool_call',
  content_filter: 'content_filter',
  error: 'error',
  other: 'other',
};

export function outputMessagesJson(response: ProviderResponse): string {
  const parts: Part[] = [];
  if (response.text) parts.push({ type: 'text', content: response.text });
  for (const call of response.toolCalls) {
    parts.push({ type: 'tool_call', id: call.id, name: call.name, arguments: parseArguments(call.arguments) });
  }
  const message: OutputMessage = { role: 'assistant', parts, finish_reason: FINISH_REASON[response.finishReason] };
  return JSON.stringify([message]);
}

/**
 * Values of `OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT` that put content on spans: `true`
 * (the original boolean form) and, in the enum form the OpenTelemetry GenAI utilities use with
 * the latest experimental conventions, `SPAN_ONLY` and `SPAN_AND_EVENT`. `EVENT_ONLY` and
 * `NO_CONTENT` keep spans free of content (Bulwark emits no content events). Case-insensitive.
 */
const CAPTURE_ON_SPANS = new Set(['true', 'span_only', 'span_and_event']);

/** `OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT` turns capture on for every chain. */
export function captureContentFromEnv(): boolean {
  const value = typeof process === 'undefined' ? undefined : process.env['OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT'];
  return value !== undefined && CAPTURE_ON_SPANS.has(value.trim().toLowerCase());
}
