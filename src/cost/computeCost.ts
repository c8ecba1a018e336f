import type { ModelPrice } from '../providers/adapter.js';
import type { Usage } from '../request/types.js';

/**
 * The price of `model` in `table`: the exact key, else the longest key that `model` starts
 * with when the rest begins with '-' or '@' — a dated snapshot or alias of a known model
 * ('gpt-4o-2024-08-06' → 'gpt-4o', 'claude-sonnet-4-5@20250929' → 'claude-sonnet-4-5'), while
 * 'gpt-4o-mini' keeps its own, longer key. Matching ignores case. Undefined when nothing fits.
 */
export function resolvePrice(model: string, table: Record<string, ModelPrice>): ModelPrice | undefined {
  if (Object.hasOwn(table, model)) return table[model];
  const wanted = model.toLowerCase();
  let best: { key: string; price: ModelPrice } | undefined;
  for (const [key, price] of Object.entries(table)) {
    const k = key.toLowerCase();
    if (k === wanted) return price;
    if (k.length === 0 || !wanted.startsWith(k)) continue;
    const next = wanted[k.length];
    if (next !== '-' && next !== '@') continue;
    if (best === undefined || key.length > best.key.length) best = { key, price };
  }
  return best?.price;
}

/**
 * USD cost of one call. `cacheReadTokens` and `cacheWriteTokens` are parts of `inputTokens` (the
 * adapters normalize Anthropic's usage, where they are reported apart) and are charged at the
 * cache-read and cache-write prices, or the input price when the table has none. Reasoning
 * tokens are part of `outputTokens` and charged as output, as both providers bill them.
 * 0 when the price is unknown. Negative or non-finite counts count as 0; the cache parts never
 * add up to more than the input.
 */
export function costOf(usage: Usage, price: ModelPrice | undefined): number {
  if (price === undefined) return 0;
  const input = count(usage.inputTokens);
  const read = Math.min(count(usage.cacheReadTokens), input);
  const written = Math.min(count(usage.cacheWriteTokens), input - read);
  const output = count(usage.outputTokens);
  const readRate = price.cacheReadPerMTok ?? price.inputPerMTok;
  const writeRate = price.cacheWritePerMTok ?? price.inputPerMTok;
  return ((input - read - written) * price.inputPerMTok + read * readRate + written * writeRate + output * price.outputPerMTok) / 1_000_000;
}

function count(n: number | undefined): number {
  return typeof n === 'number' && Number.isFinite(n) && n > 0 ? n : 0;
}
