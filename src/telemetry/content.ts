import type { FinishReason, Message, ProviderResponse } from '../request/types.js';

/**
 * Prompt and completion content in the GenAI semantic conventions v1.41.0 JSON shapes
 * (`gen_ai.input.messages`, `gen_ai.output.messages`). Only used when the user opted in to
 * content capture; never holds anything but the messages themselves.
 */

type Part =
  | { type: 'text'; content: string }
  | { type: 'tool_call'; id: string; name: string; arguments: unknown }
  | { type: 'tool_call_response'; id: string; response: unknown };

interface ChatMessage {
  role: string;
  parts: Part[];
}

interface OutputMessage extends ChatMessage {
  finish_reason: string;
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
      case 'user':
        out.push({ role: message.role, parts: [{ type: 'text', content: message.content }] });
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
        out.push({ role: 'tool', parts: [{ type: 'tool_call_response', id: message.toolCallId, response: message.content }] });
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
