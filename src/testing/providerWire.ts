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
  /** Anthropic only: the simulated prompt cache's reads / writes for this request (undefined: no breakpoint). */
  promptCache?: () => { read: number; write: number } | undefined;
  /** Request headers, lower-case names, credentials redacted. */
  headers: Readonly<Record<string, string>>;
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
  /**
   * Checks the request's images, files, documents and tool options the way the provider does:
   * the provider's 400 (message and parameter path) for the first problem, else undefined.
   */
  checkInput(body: Record<string, unknown>): InputProblem | undefined;
  /** What the request carried, for `fault.ok({ echo: true })` answers and tests. */
  describeInput(ctx: WireContext): InputSummary;
}

// -------------------------------------------------------------------------- input shapes (images, files)

/** A 400 the provider would answer for a malformed request. */
export interface InputProblem {
  message: string;
  /** Where, in the provider's own path notation (`messages[0].content[1].image_url.url`, `messages.0.content.1.source`). */
  param: string;
}

/** One image or file the server received. */
export interface ReceivedAttachment {
  /** Index into the wire's `messages`. */
  message: number;
  kind: 'image' | 'file';
  /** `url`: fetched by the provider; `base64` / `text`: inline. */
  source: 'url' | 'base64' | 'text';
  mediaType?: string;
  /** Decoded size of inline data. */
  bytes?: number;
  url?: string;
  filename?: string;
  /** Inside a tool result (Anthropic `tool_result` content). */
  inToolResult?: boolean;
}

/** `describeInput`: what a request carried besides text. */
export interface InputSummary {
  attachments: ReceivedAttachment[];
  /** The body's top-level fields, sorted (provider options show up here). */
  fields: string[];
  /** `anthropic-beta` header values. */
  betas: string[];
}

/**
 * The image formats both providers accept, by magic bytes. The server's own copy of the rule:
 * `testing/` imports nothing from the engine, so it judges requests independently of the code under test.
 */
export function sniffImage(bytes: Uint8Array): string | undefined {
  const at = (i: number, ...values: number[]) => values.every((v, j) => bytes[i + j] === v);
  if (at(0, 0x89, 0x50, 0x4e, 0x47)) return 'image/png';
  if (at(0, 0xff, 0xd8, 0xff)) return 'image/jpeg';
  if (at(0, 0x47, 0x49, 0x46, 0x38)) return 'image/gif';
  if (at(0, 0x52, 0x49, 0x46, 0x46) && at(8, 0x57, 0x45, 0x42, 0x50)) return 'image/webp';
  return undefined;
}

/** Strict base64 (what both providers insist on); undefined when the text is not. */
export function decodeBase64(text: string): Uint8Array | undefined {
  if (text.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(text)) return undefined;
  return Buffer.from(text, 'base64');
}

/** A `data:<type>;base64,<data>` URL; undefined when the text is not one. */
export function parseBase64DataUrl(text: string): { mediaType: string; bytes: Uint8Array } | undefined {
  const match = /^data:([\w.+-]+\/[\w.+-]+);base64,(.*)$/s.exec(text);
  if (!match) return undefined;
  const bytes = decodeBase64(match[2]!);
  return bytes && { mediaType: match[1]!.toLowerCase(), bytes };
}

export function isHttpUrl(text: unknown): text is string {
  return typeof text === 'string' && /^https?:\/\/\S+$/i.test(text);
}

export function betasOf(headers: Readonly<Record<string, string>>): string[] {
  const raw = headers['anthropic-beta'];
  return raw === undefined ? [] : raw.split(',').map((b) => b.trim()).filter((b) => b !== '');
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
