import { ProviderError } from '../errors/providerError.js';
import type { LimitDenial } from '../limits/types.js';
import type { TargetRuntime } from './targetRuntime.js';

/** `providerCode` of the error a target at its limits is skipped with (never sent, never charged to a breaker). */
const LIMITED_CODE = 'bulwark_limited';

/**
 * The error a skip for a limit carries: `rate_limited` (what the walk reports when every target was
 * limited; a skip, so the chain degrades as when exhausted), saying which limit and whose count.
 */
export function limitedError(rt: TargetRuntime, denial: LimitDenial): ProviderError {
  const whose = denial.source === 'provider' ? "its provider's reported" : 'its';
  const when = denial.retryInMs !== undefined ? `; capacity in ${Math.ceil(denial.retryInMs)} ms` : '';
  return new ProviderError({
    errorType: 'rate_limited',
    provider: rt.adapter.provider,
    model: rt.adapter.model,
    message: `${rt.label} is at ${whose} ${denial.kind} limit${when}`,
    providerCode: LIMITED_CODE,
    ...(denial.retryInMs !== undefined && { retryAfterMs: denial.retryInMs }),
  });
}

export function isLimitedError(error: ProviderError): boolean {
  return error.providerCode === LIMITED_CODE;
}
