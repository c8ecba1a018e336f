import { fail, fields, oneOf, type Check } from './walk.js';
import type { CacheControl, ChatRequest } from '../request/types.js';

/** Anthropic takes at most 4 `cache_control` breakpoints per request. */
export const MAX_CACHE_BREAKPOINTS = 4;

/** `cacheControl` on a message or a part, checked with the request walk. */
const cacheControlShape = fields({ ttl: oneOf(['5m', '1h'] as const) }, { unknown: 'reject' });
export const cacheControlCheck: Check<CacheControl> = (value, path) => cacheControlShape(value, path) as CacheControl;

/** Across the request: no more breakpoints than a provider takes (it would refuse the request). */
export function cacheControlCrossFieldRules(request: ChatRequest): void {
  let found = 0;
  for (const m of request.messages) {
    if (m.cacheControl) found += 1;
    // A string's content is one text part without a hint: only parts given as such can carry one.
    if ((m.role === 'user' || m.role === 'tool') && Array.isArray(m.content)) for (const part of m.content) if (part.cacheControl) found += 1;
  }
  if (found > MAX_CACHE_BREAKPOINTS) {
    fail('cacheControl', `is set on ${found} messages and parts; at most ${MAX_CACHE_BREAKPOINTS} breakpoints per request (Anthropic's limit)`);
  }
}

/** Anthropic's `cache_control` for a hint. */
export function anthropicCacheControl(hint: CacheControl): { type: 'ephemeral'; ttl?: '5m' | '1h' } {
  return { type: 'ephemeral', ...(hint.ttl !== undefined && { ttl: hint.ttl }) };
}
