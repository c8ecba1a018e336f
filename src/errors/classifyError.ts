import { ERROR_TYPES, type Disposition, type ErrorType } from './errorTypes.js';
import { ProviderError } from './providerError.js';

/** What a `classify` hook returns to override the default disposition of an error. */
export interface ClassifyDecision {
  errorType?: ErrorType;
  disposition?: Disposition;
  /** Whether this failure counts against the target's breaker. */
  countsForBreaker?: boolean;
}

/** The `classify` option: the classifier's slice of the config. */
export type ClassifyHook = (error: ProviderError) => ClassifyDecision | undefined;

/** What the engine does with one failed attempt. */
export interface Classification {
  errorType: ErrorType;
  disposition: Disposition;
  /** Counts as a failure for the target's breaker (the target looks unhealthy). */
  countsForBreaker: boolean;
  /** Opens the breaker at once (credentials or model are wrong: every call will fail). */
  opensBreaker: boolean;
  /** Same-target retries allowed for this type (malformed responses get one). */
  maxRetries?: number;
}

const DEFAULTS: Record<ErrorType, Omit<Classification, 'errorType'>> = {
  rate_limited: { disposition: 'retry', countsForBreaker: true, opensBreaker: false },
  overloaded: { disposition: 'retry', countsForBreaker: true, opensBreaker: false },
  server_error: { disposition: 'retry', countsForBreaker: true, opensBreaker: false },
  connection: { disposition: 'retry', countsForBreaker: true, opensBreaker: false },
  timeout: { disposition: 'next_target', countsForBreaker: true, opensBreaker: false },
  malformed_response: { disposition: 'retry', countsForBreaker: true, opensBreaker: false, maxRetries: 1 },
  // The provider answered, but not the requested JSON: retry (the request's responseFormat.retries,
  // default once), then the next target. Not a breaker failure: the target is up and answering, and
  // one hard schema must not open the breaker for every other request to it.
  invalid_output: { disposition: 'retry', countsForBreaker: false, opensBreaker: false, maxRetries: 1 },
  // The request does not fit this model: not the target's fault, another target may fit.
  context_length_exceeded: { disposition: 'next_target', countsForBreaker: false, opensBreaker: false },
  content_filtered: { disposition: 'next_target', countsForBreaker: false, opensBreaker: false },
  authentication: { disposition: 'next_target', countsForBreaker: true, opensBreaker: true },
  permission: { disposition: 'next_target', countsForBreaker: true, opensBreaker: true },
  not_found: { disposition: 'next_target', countsForBreaker: true, opensBreaker: true },
  bad_request: { disposition: 'fail', countsForBreaker: false, opensBreaker: false },
  circuit_open: { disposition: 'next_target', countsForBreaker: false, opensBreaker: false },
  budget_exhausted: { disposition: 'next_target', countsForBreaker: false, opensBreaker: false },
  cancelled: { disposition: 'fail', countsForBreaker: false, opensBreaker: false },
  internal: { disposition: 'fail', countsForBreaker: false, opensBreaker: false },
};

const KNOWN_TYPES: ReadonlySet<string> = new Set(ERROR_TYPES);
const DISPOSITIONS: ReadonlySet<string> = new Set<Disposition>(['retry', 'next_target', 'fail']);

/** The default disposition of an error type (DESIGN §3). */
export function defaultClassification(errorType: ErrorType): Classification {
  return { errorType, ...DEFAULTS[errorType] };
}

/**
 * Classifies a failed attempt: the default table, then the user's hook (which may change the
 * type, the disposition, or whether it counts for the breaker). A hook that throws is ignored,
 * and so is any part of its answer outside the taxonomy (an unknown type would also become an
 * unbounded `error.type` label).
 */
export function classifyError(error: ProviderError, hook: ClassifyHook | undefined): Classification {
  // Raised here, before anything was sent: the provider had no part in it, and no hook can make
  // it a provider failure (retried, sent elsewhere, charged to a breaker).
  if (error.local) return { errorType: error.errorType, disposition: 'fail', countsForBreaker: false, opensBreaker: false };
  const base = defaultClassification(error.errorType);
  if (!hook) return base;
  let decision;
  try {
    decision = hook(error);
  } catch {
    return base;
  }
  if (!decision || typeof decision !== 'object') return base;
  const { errorType, disposition, countsForBreaker } = decision;
  const typed = typeof errorType === 'string' && KNOWN_TYPES.has(errorType) && errorType !== base.errorType ? defaultClassification(errorType) : base;
  return {
    ...typed,
    ...(typeof disposition === 'string' && DISPOSITIONS.has(disposition) && { disposition }),
    ...(typeof countsForBreaker === 'boolean' && { countsForBreaker }),
  };
}

/** Wraps anything an adapter threw that is not already normalized. */
export function asProviderError(error: unknown, provider: string, model: string): ProviderError {
  if (error instanceof ProviderError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new ProviderError({ errorType: 'malformed_response', provider, model, message: `unexpected adapter failure: ${message}` });
}
