import type { CachedAnswer, ResponseCache } from '../cache/responseCache.js';
import type { ErrorType } from '../errors/errorTypes.js';
import type { ForcedTier } from '../request/tiers.js';
import type { ChatRequest, ChatResult, Tier } from '../request/types.js';
import type { WalkState } from './walkState.js';


function degradedResult(state: WalkState, tier: Tier, fields: Pick<ChatResult, 'text' | 'toolCalls' | 'finishReason' | 'usage' | 'model'>, warning: string, provider: string): ChatResult {
  return {
    ...fields,
    costUsd: state.costUsd,
    tier,
    target: { provider, model: fields.model, index: -1 },
    attempts: state.attempts,
    fallbackUsed: true,
    warning,
  };
}

export function cachedResult(state: WalkState, answer: CachedAnswer, ageMs: number, why: string): ChatResult {
  const { text, toolCalls, finishReason, usage, model, provider } = answer;
  return degradedResult(state, 'cached', { text, toolCalls, finishReason, usage, model }, `Served a cached answer (${Math.round(ageMs / 1000)} s old): ${why}`, provider);
}

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

export function staticResult(state: WalkState, text: string, why: string): ChatResult {
  return degradedResult(
    state,
    'static',
    { text, toolCalls: [], finishReason: 'stop', usage: { inputTokens: 0, outputTokens: 0 }, model: 'static' },
    `Served the static reply: ${why}`,
    'bulwark',
  );
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
