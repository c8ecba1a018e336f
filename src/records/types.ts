/**
 * What calls produce and what is recorded of them: tool calls, token usage, the attempts a
 * request made. The vocabulary shared by the answers (request/types.ts re-exports it) and by the
 * errors that carry part of an answer (a refusal's usage, the attempts of a failed request, the
 * tool calls a stream had delivered), so that neither has to import the other.
 */

import type { ATTEMPT_KINDS } from '../telemetry/names.js';

/** A tool call the model asked for. `arguments` is the JSON text the model produced. */
export interface ToolCall {
  id: string;
  name: string;
  arguments: string;
}

/**
 * Token counts of one call. The breakdowns are parts of the totals, as the GenAI conventions count
 * them: `cacheReadTokens` and `cacheWriteTokens` are included in `inputTokens` (the whole prompt,
 * whatever the provider's own payload looked like), `reasoningTokens` in `outputTokens`.
 */
export interface Usage {
  inputTokens: number;
  outputTokens: number;
  /** Input tokens served from the provider's prompt cache (priced at the cache-read price). */
  cacheReadTokens?: number;
  /** Input tokens written to the provider's prompt cache (priced at the cache-write price). */
  cacheWriteTokens?: number;
  /** Output tokens spent on reasoning / extended thinking (priced as output). */
  reasoningTokens?: number;
}

/** The values of `bulwark.attempt.kind` (telemetry/names.ts). */
export type AttemptKind = (typeof ATTEMPT_KINDS)[number];

export interface AttemptRecord {
  provider: string;
  model: string;
  targetIndex: number;
  /** When the target is a pool member: the pool's name and the member (0-based). */
  pool?: string;
  member?: number;
  kind: AttemptKind;
  /** Set when the attempt failed. */
  errorType?: string;
  durationMs: number;
  /** Backoff wait taken after this attempt, before the next one. */
  delayMs?: number;
  costUsd?: number;
}
