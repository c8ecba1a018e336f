import type { Usage } from '../records/types.js';
import type { ErrorType } from './errorTypes.js';

export interface ProviderErrorInit {
  errorType: ErrorType;
  provider: string;
  model: string;
  message: string;
  status?: number;
  /** Delay the provider asked for before the next attempt (parsed from its headers). */
  retryAfterMs?: number;
  /** The provider's request id, useful in support tickets. */
  requestId?: string;
  /** The provider's own error code (e.g. `context_length_exceeded`). */
  providerCode?: string;
  /** Usage the provider reported despite the failure (a refusal still bills its tokens). */
  usage?: Usage;
  /**
   * Raised in this process before any byte left for the provider (the request could not be
   * serialized, Bulwark's own code threw): not the provider's failure. Never retried, never sent
   * to another target, never charged to a breaker or a retry budget.
   */
  local?: boolean;
  cause?: unknown;
}

/**
 * One failed upstream call, normalized. Carries everything the classifier needs and nothing
 * secret: no API key, no auth headers, no request body.
 */
export class ProviderError extends Error {
  override readonly name = 'ProviderError';
  readonly errorType: ErrorType;
  readonly provider: string;
  readonly model: string;
  readonly status?: number;
  readonly retryAfterMs?: number;
  readonly requestId?: string;
  readonly providerCode?: string;
  readonly usage?: Usage;
  readonly local?: boolean;

  constructor(init: ProviderErrorInit) {
    super(init.message, init.cause === undefined ? undefined : { cause: init.cause });
    this.errorType = init.errorType;
    this.provider = init.provider;
    this.model = init.model;
    if (init.status !== undefined) this.status = init.status;
    if (init.retryAfterMs !== undefined) this.retryAfterMs = init.retryAfterMs;
    if (init.requestId !== undefined) this.requestId = init.requestId;
    if (init.providerCode !== undefined) this.providerCode = init.providerCode;
    if (init.usage !== undefined) this.usage = init.usage;
    if (init.local) this.local = true;
  }

  static isInstance(value: unknown): value is ProviderError {
    return value instanceof ProviderError;
  }
}
