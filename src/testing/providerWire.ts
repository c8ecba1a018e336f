import type { ContentFilterFault, ErrorFault, Provider, StreamErrorFault } from './faults.js';
import type { SseEvent } from './sse.js';

/** What a wire renderer knows about the request it answers. */
export interface WireContext {
  /** Route name (`default` when the path has no prefix). */
  route: string;
  /** `model` from the request body (`''` when missing). */
  model: string;
  /** The parsed request body. */
  body: Record<string, unknown>;
  /** Estimated input tokens of the request. */
  inputTokens: number;
  /** Sequence number of the request on this server; ids are derived from it. */
  seq: number;
  /** Server clock (`options.now()`) when rendering. */
  nowMs: number;
}

/** A successful answer, provider-neutral, fully resolved (no defaults left). */
export interface ResolvedReply {
  text: string;
  toolCalls: Array<{ id: string | undefined; name: string; arguments: string }>;
  /** Neutral (`stop`, `tool_calls`, …), the other provider's name, or a verbatim value. */
  finishReason: string;
  inputTokens: number;
  outputTokens: number;
  /** Parts of inputTokens / outputTokens (0 when none). */
  cacheReadTokens: number;
  cacheWriteTokens: number;
  reasoningTokens: number;
  /** Reasoning text ('' for none). */
  reasoning: string;
}

/** A complete HTTP error answer. */
export interface WireError {
  status: number;
  headers: Record<string, string>;
  /** Object → JSON; string → sent verbatim. */
  body: unknown;
}

/** One provider's wire format. Implemented by `openaiWire` and `anthropicWire`. */
export interface ProviderWire {
  readonly provider: Provider;
  /**
   * The 400 the provider would answer a malformed structured-output / reasoning / prompt-cache field with
   * (see requestChecks.ts), or undefined when the request is acceptable. Checked before the script plays.
   */
  checkRequest(ctx: WireContext): WireError | undefined;
  /** Headers on every answer (request ids, content type is set by the server). */
  commonHeaders(ctx: WireContext): Record<string, string>;
  /** The non-streaming JSON body. */
  completion(ctx: WireContext, reply: ResolvedReply): unknown;
  /** Every SSE event of a complete stream, terminator included. */
  streamEvents(ctx: WireContext, reply: ResolvedReply): SseEvent[];
  /** The JSON error answer for an error fault. */
  error(ctx: WireContext, fault: ErrorFault): WireError;
  /** The error answer for a content-policy refusal, or undefined when this provider refuses with a 200. */
  contentPolicyError(ctx: WireContext, fault: ContentFilterFault): WireError | undefined;
  /** The error event sent in the middle of a stream. */
  streamErrorEvent(ctx: WireContext, fault: StreamErrorFault): SseEvent;
  /** What a non-stream request gets for a `streamError` fault. */
  streamErrorAsHttp(ctx: WireContext, fault: StreamErrorFault): WireError;
}

/** A stable, unique-per-server id fragment, e.g. `bulwark000042`. */
export function idFragment(seq: number): string {
  return `bulwark${String(seq).padStart(6, '0')}`;
}

/** Splits text into word-sized stream deltas (`Hello`, ` world`), keeping every character. */
export function textPieces(text: string): string[] {
  if (text === '') return [];
  return text.match(/\s*\S+\s*?(?=\s|$)|\s+$/g) ?? [text];
}

/** Splits a tool-call argument string into small deltas, as providers stream them. */
export function argumentPieces(args: string, size = 12): string[] {
  const pieces: string[] = [];
  for (let i = 0; i < args.length; i += size) pieces.push(args.slice(i, i + size));
  return pieces;
}
