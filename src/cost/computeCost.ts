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
 * USD cost of one call. `cachedInputTokens` are part of `inputTokens` (OpenAI's convention;
 * adapters normalize Anthropic's, where cache reads are reported apart) and are charged at
 * the cached rate, or the input rate when the price has none. 0 when the price is unknown.
 * Negative or non-finite counts count as 0; cached tokens never exceed input tokens.
 */
export function costOf(usage: Usage, price: ModelPrice | undefined): number {
  if (price === undefined) return 0;
  const input = count(usage.inputTokens);
  const cached = Math.min(count(usage.cachedInputTokens), input);
  const output = count(usage.outputTokens);
  const cachedRate = price.cachedInputPerMTok ?? price.inputPerMTok;
  return ((input - cached) * price.inputPerMTok + cached * cachedRate + output * price.outputPerMTok) / 1_000_000;
}

function count(n: number | undefined): number {
  return typeof n === 'number' && Number.isFinite(n) && n > 0 ? n : 0;
}
