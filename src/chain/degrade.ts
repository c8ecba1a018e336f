import type { CachedAnswer, ResponseCache } from '../cache/responseCache.js';
import type { ErrorType } from '../errors/errorTypes.js';
import type { ForcedTier } from '../request/tiers.js';
import type { ChatRequest, ChatResult } from '../request/types.js';
import { cachedResult, staticResult } from './results.js';
import type { WalkState } from './walkState.js';

/**
 * The static reply's text, or undefined when a reply function throws or returns no string: a
 * broken template means there is no static tier, never a new error (which might quote the request).
 */
function staticText(reply: string | ((request: ChatRequest) => string), request: ChatRequest): string | undefined {
  if (typeof reply === 'string') return reply;
  try {
    const text: unknown = reply(request);
    return typeof text === 'string' ? text : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The last rungs of the ladder once no target answered: a stale cached answer, then the static
 * reply. Returns undefined when neither is available (the caller then throws).
 */
export async function degrade(
  state: WalkState,
  cache: ResponseCache | undefined,
  reason: ErrorType | 'forced',
  why: string,
  forced: ForcedTier,
  known?: { answer: CachedAnswer; ageMs: number },
): Promise<ChatResult | undefined> {
  const { degrade: options } = state.config;
  if (forced !== 'static' && cache) {
    const hit = known ?? (await cache.lookup(state.request));
    state.observer.onCacheLookup?.(hit ? 'stale_served' : 'miss');
    if (hit) {
      state.observer.onDegraded?.({ tier: 'cached', reason });
      return cachedResult(state, hit.answer, hit.ageMs, why);
    }
  }
  const text = options.staticReply === undefined ? undefined : staticText(options.staticReply, state.request);
  if (text !== undefined) {
    state.observer.onDegraded?.({ tier: 'static', reason });
    return staticResult(state, text, why);
  }
  return undefined;
}
