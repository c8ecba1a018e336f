import { ProviderError } from '../errors/providerError.js';
import { estimateTokens } from '../validation/validateRequest.js';
import type { LimitDenial, LimitGrant } from '../limits/types.js';
import type { TargetRuntime } from './targetRuntime.js';
import type { WalkState } from './walkState.js';

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

/** A target's limits refused the call: which limit, and the error the skip carries. */
export type LimitRefusal = { denial: LimitDenial; error: ProviderError };

/** The request's estimated tokens, computed once (a module function, so no closure per call). */
const estimateOf = (state: WalkState): number => (state.estimatedTokens ??= estimateTokens(state.request));

/**
 * Asks `rt`'s limits for one call: true when admitted (the grant waits in the walk state for the
 * attempt that makes the call), else the denial and the error the skip carries. At once, not a
 * promise, when the limiter answers at once (nothing to ask of a window or the store).
 */
export function admitLimited(rt: TargetRuntime, state: WalkState): true | LimitRefusal | Promise<true | LimitRefusal> {
  const grant = rt.slot.limiter.acquire(estimateOf, state);
  return grant instanceof Promise ? grant.then((settled) => admission(rt, state, settled)) : admission(rt, state, grant);
}

function admission(rt: TargetRuntime, state: WalkState, grant: LimitGrant | LimitDenial): true | LimitRefusal {
  if (!grant.granted) return { denial: grant, error: limitedError(rt, grant) };
  (state.limitGrants ??= new Map()).set(rt, grant);
  return true;
}

/** The grant waiting for `rt`'s next call, handed over once. */
export function takeLimitGrant(state: WalkState, rt: TargetRuntime): LimitGrant | undefined {
  const grant = state.limitGrants?.get(rt);
  if (grant) state.limitGrants!.delete(rt);
  return grant;
}
