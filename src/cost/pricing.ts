import type { ModelPrice } from '../providers/adapter.js';

/**
 * When the built-in prices below were last checked against the providers' published pages.
 * Users override or extend them with `pricing` (chain) or `pricing` (target); keys are matched
 * by `resolvePrice` (exact, else the longest key followed by '-' or '@', so dated snapshots and
 * aliases such as `gpt-4o-2024-08-06` or `claude-sonnet-4-5-20250929` find their model).
 */
export const PRICES_AS_OF = '2026-11-21';

/**
 * USD per million tokens, standard (non-batch, non-priority) processing, short-context tier.
 * `cacheReadPerMTok` is the prompt-cache read price (OpenAI "cached input", Anthropic "cache hits
 * & refreshes"); `cacheWritePerMTok` the cache write price (Anthropic "5m cache writes", 1.25×
 * input; OpenAI charges no premium for writes, so its rows leave it out and writes cost input).
 *
 * Sources:
 * - OpenAI: https://developers.openai.com/api/docs/pricing ("Text tokens", Standard) and the
 *   per-model pages under https://developers.openai.com/api/docs/models/ (e.g. gpt-5-mini:
 *   $0.25 / $0.025 / $2.00; gpt-5-nano: $0.05 / $0.005 / $0.40). o3 is priced after OpenAI's
 *   June 2025 cut ($2 / $8). gpt-4o-2024-05-13, the original gpt-4o snapshot, kept its launch
 *   price and is listed on its own.
 * - Anthropic: https://platform.claude.com/docs/en/about-claude/pricing ("Model pricing").
 *   Not modelled: 1-hour cache writes (2× input; priced as 5-minute writes here), Sonnet's
 *   long-context premium above 200k input tokens, batch discounts, data-residency uplifts.
 */
export const BUILTIN_PRICES: Readonly<Record<string, ModelPrice>> = Object.freeze({
  // OpenAI — GPT-5 family
  'gpt-5': { inputPerMTok: 1.25, cacheReadPerMTok: 0.125, outputPerMTok: 10 },
  'gpt-5-mini': { inputPerMTok: 0.25, cacheReadPerMTok: 0.025, outputPerMTok: 2 },
  'gpt-5-nano': { inputPerMTok: 0.05, cacheReadPerMTok: 0.005, outputPerMTok: 0.4 },
  'gpt-5-pro': { inputPerMTok: 15, outputPerMTok: 120 },
  'gpt-5.1': { inputPerMTok: 1.25, cacheReadPerMTok: 0.125, outputPerMTok: 10 },
  // OpenAI — GPT-4.1 family
  'gpt-4.1': { inputPerMTok: 2, cacheReadPerMTok: 0.5, outputPerMTok: 8 },
  'gpt-4.1-mini': { inputPerMTok: 0.4, cacheReadPerMTok: 0.1, outputPerMTok: 1.6 },
  'gpt-4.1-nano': { inputPerMTok: 0.1, cacheReadPerMTok: 0.025, outputPerMTok: 0.4 },
  // OpenAI — GPT-4o family
  'gpt-4o': { inputPerMTok: 2.5, cacheReadPerMTok: 1.25, outputPerMTok: 10 },
  'gpt-4o-2024-05-13': { inputPerMTok: 5, outputPerMTok: 15 },
  'gpt-4o-mini': { inputPerMTok: 0.15, cacheReadPerMTok: 0.075, outputPerMTok: 0.6 },
  // OpenAI — reasoning models
  o3: { inputPerMTok: 2, cacheReadPerMTok: 0.5, outputPerMTok: 8 },
  'o3-pro': { inputPerMTok: 20, outputPerMTok: 80 },
  'o3-mini': { inputPerMTok: 1.1, cacheReadPerMTok: 0.55, outputPerMTok: 4.4 },
  'o4-mini': { inputPerMTok: 1.1, cacheReadPerMTok: 0.275, outputPerMTok: 4.4 },
  o1: { inputPerMTok: 15, cacheReadPerMTok: 7.5, outputPerMTok: 60 },

  // Anthropic — Claude 4.x
  'claude-opus-4-5': { inputPerMTok: 5, cacheReadPerMTok: 0.5, cacheWritePerMTok: 6.25, outputPerMTok: 25 },
  'claude-opus-4-1': { inputPerMTok: 15, cacheReadPerMTok: 1.5, cacheWritePerMTok: 18.75, outputPerMTok: 75 },
  'claude-opus-4': { inputPerMTok: 15, cacheReadPerMTok: 1.5, cacheWritePerMTok: 18.75, outputPerMTok: 75 },
  // Sonnet 4.6 (Feb 2026) kept Sonnet 4.5's price; checked against pages quoting Anthropic's pricing page.
  'claude-sonnet-4-6': { inputPerMTok: 3, cacheReadPerMTok: 0.3, cacheWritePerMTok: 3.75, outputPerMTok: 15 },
  'claude-sonnet-4-5': { inputPerMTok: 3, cacheReadPerMTok: 0.3, cacheWritePerMTok: 3.75, outputPerMTok: 15 },
  'claude-sonnet-4': { inputPerMTok: 3, cacheReadPerMTok: 0.3, cacheWritePerMTok: 3.75, outputPerMTok: 15 },
  'claude-haiku-4-5': { inputPerMTok: 1, cacheReadPerMTok: 0.1, cacheWritePerMTok: 1.25, outputPerMTok: 5 },
  // Anthropic — Claude 3.x
  'claude-3-7-sonnet': { inputPerMTok: 3, cacheReadPerMTok: 0.3, cacheWritePerMTok: 3.75, outputPerMTok: 15 },
  'claude-3-5-sonnet': { inputPerMTok: 3, cacheReadPerMTok: 0.3, cacheWritePerMTok: 3.75, outputPerMTok: 15 },
  'claude-3-5-haiku': { inputPerMTok: 0.8, cacheReadPerMTok: 0.08, cacheWritePerMTok: 1, outputPerMTok: 4 },
  'claude-3-haiku': { inputPerMTok: 0.25, cacheReadPerMTok: 0.03, cacheWritePerMTok: 0.3, outputPerMTok: 1.25 },
  'claude-3-opus': { inputPerMTok: 15, cacheReadPerMTok: 1.5, cacheWritePerMTok: 18.75, outputPerMTok: 75 },
} satisfies Record<string, ModelPrice>);
