import type { ChatRequest, ProviderOptions, ProviderResponse, StreamEvent } from '../request/types.js';
import type { TargetTier } from '../request/tiers.js';
import type { ResolvedCapabilities, TargetCapabilities } from './capabilities.js';
import type { RateLimitListener } from './rateLimitHeaders.js';

export interface ModelPrice {
  /** USD per million input tokens. */
  inputPerMTok: number;
  /** USD per million output tokens. */
  outputPerMTok: number;
  /** USD per million input tokens read from the prompt cache (defaults to the input price). */
  cacheReadPerMTok?: number;
  /** USD per million input tokens written to the prompt cache (defaults to the input price). */
  cacheWritePerMTok?: number;
}

export interface AttemptOptions {
  /**
   * Aborts the upstream call (attempt timeout, total deadline, caller cancellation, consumer
   * walking away from a stream). The adapter must close the HTTP request when it fires.
   */
  signal: AbortSignal;
  /** Receives the provider's rate-limit headers of a successful response (adapters that can read them). */
  rateLimits?: RateLimitListener;
}

/**
 * One provider's calls, provider-neutral on both sides. Adapters are the only code that
 * imports a vendor SDK. Every failure they throw is a `ProviderError` (see classify), never
 * the vendor's raw error and never anything holding credentials.
 */
export interface ProviderAdapter {
  /** `gen_ai.provider.name`: openai, anthropic, … */
  readonly provider: string;
  readonly model: string;
  /** Host and port of the endpoint, for `server.address` / `server.port`. */
  readonly serverAddress?: string;
  readonly serverPort?: number;
  /** The rate-limit headers it reads from answers (their `bulwark.limit.header_errors` series are pre-created at 0). */
  readonly rateLimitHeaders?: readonly string[];
  chat(request: ChatRequest, options: AttemptOptions): Promise<ProviderResponse>;
  /** Streams events; breaking out of the loop must close the upstream connection. */
  stream(request: ChatRequest, options: AttemptOptions): AsyncIterable<StreamEvent>;
}

/**
 * A target's own limits, accounted by Bulwark before each call (see limits/ and docs/api.md "Limits").
 * Declared here, with the target it belongs to; `LimitsConfig` in limits/ is the same type.
 */
export interface TargetLimits {
  /** Calls per minute (sliding 60 s window; fleet-wide with `sharedState`). */
  rpm?: number;
  /** Tokens per minute, input + output: estimated before the call (ceil(chars / 4)), corrected by the reported usage. */
  tpm?: number;
  /** Calls in flight at once (fleet-wide with `sharedState`, as leases that expire after the total deadline). */
  maxConcurrent?: number;
  /** How long a request that finds every target at its limits waits for capacity. Default 0. */
  queueMs?: number;
}

export interface TargetOptions {
  model: string;
  /** 'reduced' marks a weaker target: answers from it are tier 'reduced'. Default 'full'. */
  tier?: TargetTier;
  /** Max prompt tokens this target accepts; context-length failures skip targets that don't fit. */
  contextWindow?: number;
  /** Price for this target, over the built-in table. */
  pricing?: ModelPrice;
  /** Breaker key; defaults to `provider/model`. Give several targets one key to share a breaker. */
  breakerKey?: string;
  /**
   * What input the target takes (images, file types). Defaults per model family; a target that
   * cannot take a request's parts is skipped before any call (fallback reason `unsupported_input`).
   */
  capabilities?: TargetCapabilities;
  /** Most output tokens this target may be asked for: a request's larger `maxTokens` is clamped to it here. */
  maxOutputTokens?: number;
  /**
   * Provider-specific request fields for this target, keyed by provider name like the request's
   * `providerOptions` (which win over these, key by key).
   */
  providerOptions?: ProviderOptions;
  /**
   * Limits accounted before each call: a target at one is skipped (fallback reason `limited`), not
   * failed; a request that finds every target limited waits up to `queueMs` for capacity.
   */
  limits?: TargetLimits;
}

/** A configured target of a chain. */
export interface Target {
  readonly adapter: ProviderAdapter;
  readonly tier: TargetTier;
  readonly contextWindow?: number;
  readonly pricing?: ModelPrice;
  readonly breakerKey?: string;
  /** What input the target takes; a hand-made `{ adapter }` target without it is never skipped for its input. */
  readonly capabilities?: ResolvedCapabilities;
  readonly maxOutputTokens?: number;
  readonly limits?: TargetLimits;
}
