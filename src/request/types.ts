/**
 * The provider-neutral request and response shapes. OpenAI-style roles, camelCase fields.
 * Adapters convert these to and from each provider's wire format, so a chain can hop from
 * OpenAI to Anthropic in the middle of an agent's tool loop.
 */

import type { TIERS } from '../telemetry/names.js';
import type { AttemptKind, AttemptRecord, ToolCall, Usage } from '../records/types.js';

export type { AttemptKind, AttemptRecord, ToolCall, Usage } from '../records/types.js';

/** `developer` is OpenAI's newer name for the instructions role: taken as `system`. */
export const ROLES = ['system', 'developer', 'user', 'assistant', 'tool'] as const;
export type Role = (typeof ROLES)[number];

/** `developer` (OpenAI's newer name for the instructions role) is accepted and treated as `system`. */
export interface SystemMessage extends Cacheable {
  role: 'system' | 'developer';
  content: string;
}
export interface UserMessage extends Cacheable {
  role: 'user';
  content: string | ContentPart[];
}
export interface AssistantMessage extends Cacheable {
  role: 'assistant';
  content?: string | null;
  toolCalls?: ToolCall[];
  /**
   * The reasoning blocks of this turn as the provider returned them (`result.reasoningBlocks`). Sent
   * back to the same provider (Anthropic requires its signed thinking blocks in a tool loop); dropped,
   * with a `bulwark.reasoning.dropped` event on the attempt span, when another provider answers.
   */
  reasoning?: ReasoningBlock[];
}
export interface ToolMessage extends Cacheable {
  role: 'tool';
  /** The id of the tool call this message answers. */
  toolCallId: string;
  content: string | ContentPart[];
}
export type Message = SystemMessage | UserMessage | AssistantMessage | ToolMessage;

// ------------------------------------------------------------------ content parts (issue 12, part A)

/** Plain text inside a multi-part message. */
export interface TextPart extends Cacheable {
  type: 'text';
  text: string;
}

/**
 * Where the bytes of an image or file are: a URL (an `https:` URL or a `data:` URL, as a string or
 * a `URL`), or the bytes themselves (a `Uint8Array`, so a Node `Buffer` too). Sent as given: no
 * resizing, no re-encoding beyond what the provider's wire format needs (base64).
 */
export type BinarySource = URL | string | Uint8Array;

/** An image. `mediaType` (image/png, image/jpeg, image/gif, image/webp) is sniffed from bytes when left out. */
export interface ImagePart extends Cacheable {
  type: 'image';
  image: BinarySource;
  mediaType?: string;
}

/** A document (application/pdf, text/plain, …). */
export interface FilePart extends Cacheable {
  type: 'file';
  data: BinarySource;
  mediaType: string;
  filename?: string;
}

export type ContentPart = TextPart | ImagePart | FilePart;

/**
 * Provider-specific request fields, keyed by `gen_ai.provider.name` (`openai`, `anthropic`,
 * `azure.ai.openai`, or a target's own `providerName`). Only the entry of the provider of the
 * current attempt is sent, merged into its request body; fields Bulwark owns are refused.
 */
export type ProviderOptions = Record<string, Record<string, unknown>>;

/** A JSON schema object describing tool parameters. */
export type JsonSchema = Record<string, unknown>;

export interface ToolDefinition {
  name: string;
  description?: string;
  parameters: JsonSchema;
}

export const TOOL_CHOICES = ['auto', 'none', 'required'] as const;
export type ToolChoice = (typeof TOOL_CHOICES)[number] | { name: string };

export interface ChatRequest {
  messages: Message[];
  tools?: ToolDefinition[];
  toolChoice?: ToolChoice;
  maxTokens?: number;
  temperature?: number;
  topP?: number;
  stop?: string[];
  /** Caller's cancellation: stops the whole walk at once, including a backoff wait. */
  signal?: AbortSignal;
  /** Cache partition (tenant or user key). One partition never receives another's cached answer. */
  partition?: string;
  /** Throw instead of serving cached or static answers when every target failed. */
  critical?: boolean;
  /** Stop trying further targets once this much has been spent on this request. */
  maxCostUsd?: number;
  /** Per-request override of the total deadline. */
  totalTimeoutMs?: number;
  /**
   * Whether the model may ask for several tool calls in one answer (OpenAI `parallel_tool_calls`,
   * Anthropic `disable_parallel_tool_use`). Sent only with tools. Default: the provider's (true).
   */
  parallelToolCalls?: boolean;
  /** Provider-specific fields, merged over the target's own (see ProviderOptions). */
  providerOptions?: ProviderOptions;
  /** Ask for JSON matching a schema; the answer is parsed and validated (see ResponseFormat). */
  responseFormat?: ResponseFormat;
  /** Turn on reasoning / extended thinking (see ReasoningOptions). */
  reasoning?: ReasoningOptions;
}

export type FinishReason = 'stop' | 'length' | 'tool_calls' | 'content_filter' | 'error' | 'other';

/** What an adapter returns for one successful upstream call. */
export interface ProviderResponse {
  text: string;
  toolCalls: ToolCall[];
  finishReason: FinishReason;
  usage?: Usage;
  /** The model the provider says answered. */
  model: string;
  responseId?: string;
  /** The parsed, schema-valid answer, set by the engine when the request had a `responseFormat`. */
  object?: unknown;
  /** Reasoning text (thinking, or a compatible server's reasoning_content), when the provider returned any. */
  reasoning?: string;
  /** The provider's reasoning blocks, to carry back on the assistant message. */
  reasoningBlocks?: ReasoningBlock[];
}

/** Incremental events of a streamed answer, provider-neutral. */
export type StreamEvent =
  | { type: 'text'; delta: string }
  | { type: 'tool_call'; index: number; id?: string; name?: string; argumentsDelta: string }
  | { type: 'usage'; usage: Usage }
  /** Reasoning text as it is produced (Anthropic thinking, a compatible server's reasoning_content). */
  | { type: 'reasoning'; delta: string }
  /** `reasoningBlocks`: the whole, signed blocks, once they are complete (carry them back on the assistant message). */
  | { type: 'finish'; finishReason: FinishReason; model?: string; responseId?: string; reasoningBlocks?: ReasoningBlock[] }
  /** The stream was restarted on another target; discard everything shown so far. */
  | { type: 'reset'; reason: string };

/** The tier of an answer: the values of `bulwark.tier` (telemetry/names.ts) but a failure's 'none'. */
export type Tier = Exclude<(typeof TIERS)[number], 'none'>;

export interface TargetRef {
  provider: string;
  model: string;
  /** Position of the target in the chain, 0-based. -1 for cached/static answers. */
  index: number;
  /** When the position is a pool: its name, and which of its members (0-based). */
  pool?: string;
  member?: number;
}

export interface ChatResult {
  text: string;
  toolCalls: ToolCall[];
  finishReason: FinishReason;
  usage: Usage;
  /** Spend of the whole request, failed attempts that reported usage included. */
  costUsd: number;
  tier: Tier;
  target: TargetRef;
  attempts: AttemptRecord[];
  fallbackUsed: boolean;
  /** Human-readable note when the answer is degraded (cached, static, reduced). */
  warning?: string;
  responseId?: string;
  /** The model the provider says answered. */
  model: string;
  /**
   * With `responseFormat`: the answer parsed and validated against the schema. Absent when the
   * answer is tool calls, or a static reply (which is not the requested JSON).
   */
  object?: unknown;
  /** Reasoning text of the answering call, when the provider returned any (cached answers keep none). */
  reasoning?: string;
  /**
   * The answering provider's reasoning blocks (Anthropic: signed thinking blocks). Put them on the
   * assistant message of the next turn (`reasoning: result.reasoningBlocks`) to carry them back.
   */
  reasoningBlocks?: ReasoningBlock[];
}

// ---------------------------------------------------------------------------------------------
// Structured output (issue 12 part B)

/**
 * `responseFormat`: the answer must be JSON matching `schema` (a JSON Schema object). OpenAI gets
 * `response_format: { type: 'json_schema', json_schema: { name, schema, strict } }`, Anthropic its
 * native structured output (`output_config.format`). Either way Bulwark parses the answer and
 * validates it (ajv); an answer that does not parse or validate is the error type
 * `invalid_output`: retried `retries` times on the same target, then the next target.
 */
export interface ResponseFormat {
  type: 'json';
  schema: JsonSchema;
  /** OpenAI's `json_schema.name` ([a-zA-Z0-9_-]{1,64}); default 'response'. */
  name?: string;
  /** OpenAI's `json_schema.strict`. Anthropic's structured output is always constrained. */
  strict?: boolean;
  /** Same-target retries after an invalid answer before the next target; default 1, at most 5. */
  retries?: number;
}

// ---------------------------------------------------------------------------------------------
// Reasoning (issue 12 part B)

export type ReasoningEffort = 'minimal' | 'low' | 'medium' | 'high';

/**
 * `reasoning`: OpenAI gets `reasoning_effort` (from `effort`, else from `budgetTokens`), Anthropic
 * `thinking: { type: 'enabled', budget_tokens }` (from `budgetTokens`, else from `effort`).
 * `budgetTokens` must be at least 1024 (Anthropic's minimum) and below `maxTokens`.
 */
export interface ReasoningOptions {
  effort?: ReasoningEffort;
  budgetTokens?: number;
}

/**
 * One reasoning block as a provider returned it, stamped with that provider's name
 * (`gen_ai.provider.name`): only that provider ever gets it back.
 */
export interface ReasoningBlock {
  provider: string;
  /** The reasoning text ('' for a redacted block). */
  text: string;
  /** The provider's signature over the block (Anthropic thinking), returned unchanged. */
  signature?: string;
  /** Anthropic `redacted_thinking` data, returned unchanged. */
  redacted?: string;
}

// ---------------------------------------------------------------------------------------------
// Prompt caching (issue 12 part B)

/**
 * A prompt-cache breakpoint: everything up to and including this message or part is worth caching.
 * Anthropic: `cache_control: { type: 'ephemeral', ttl }` on the block (at most 4 per request, its
 * limit). OpenAI caches prompt prefixes automatically and gets nothing.
 */
export interface CacheControl {
  /** Anthropic's cache lifetime: '5m' (default) or '1h' (writes cost more; see the pricing table). */
  ttl?: '5m' | '1h';
}

/** Messages and content parts may carry a cache breakpoint. */
export interface Cacheable {
  cacheControl?: CacheControl;
}
