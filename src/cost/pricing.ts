import type { ModelPrice } from '../providers/adapter.js';

/**
 * When the built-in prices below were last checked. Users override or extend them with `pricing`
 * (chain: a table, or `pricingFromFile(path)` for negotiated prices) or `pricing` (target); keys
 * are matched by `resolvePrice` (exact, else the longest key followed by '-' or '@', so dated
 * snapshots and aliases such as `gpt-6-sol-2026-09-22` or `claude-haiku-4-5-20251001` find their
 * family's row).
 */
export const PRICES_AS_OF = '2026-12-03';

/** One row of the built-in table: the price, where it was read and when. */
export interface PriceRow extends ModelPrice {
  /** The page the price was read from (the provider's own page unless it says otherwise). */
  source: string;
  /** When it was read there (YYYY-MM-DD). */
  checked: string;
}

const OPENAI_MODELS = 'https://developers.openai.com/api/docs/models';
const OPENAI_PRICING = 'https://developers.openai.com/api/docs/pricing';
const ANTHROPIC_PRICING = 'https://platform.claude.com/docs/en/about-claude/pricing';
const ANTHROPIC_MODELS = 'https://platform.claude.com/docs/en/models';

/**
 * USD per million tokens, standard (non-batch, non-priority, non-fast) processing, short-context tier.
 * `cacheReadPerMTok` is the prompt-cache read price (OpenAI "cached input", Anthropic "cache hits &
 * refreshes"), `cacheWritePerMTok` the write price where the provider bills writes (Anthropic "5m cache
 * writes", 1.25× input — 1-hour writes, 2×, are priced as 5-minute ones; OpenAI's GPT-6 and GPT-5.6
 * models "cache writes", 1.25× input; older OpenAI models bill writes as input). Not modelled: the
 * long-context tiers (OpenAI above 272K input tokens: 2× input, 1.5× output; Anthropic Haiku 5.5
 * above 100K prompt tokens: 5×), batch/flex discounts and fast/priority/regional uplifts. Rows that
 * quote a third party say so in their source.
 */
export const PRICE_ROWS: Readonly<Record<string, PriceRow>> = Object.freeze({
  // OpenAI — GPT-6 family (model pages list input, cached input, output)
  'gpt-6.2-astra': { inputPerMTok: 8, outputPerMTok: 40, source: `${OPENAI_MODELS} (GPT-6.2 Astra card; cached input not listed)`, checked: '2026-12-03' },
  'gpt-6.2-sol': { inputPerMTok: 2, cacheReadPerMTok: 0.1, cacheWritePerMTok: 2.5, outputPerMTok: 10, source: `${OPENAI_MODELS}/gpt-6.2-sol`, checked: '2026-12-03' },
  'gpt-6.1-sol': { inputPerMTok: 2, cacheReadPerMTok: 0.1, cacheWritePerMTok: 2.5, outputPerMTok: 10, source: `${OPENAI_MODELS}/gpt-6.1-sol (as quoted by apidog.com, 2026-10)`, checked: '2026-12-03' },
  'gpt-6.1-terra': { inputPerMTok: 1, outputPerMTok: 5, source: `${OPENAI_MODELS} (GPT-6.1 Terra card; cached input not listed)`, checked: '2026-12-03' },
  'gpt-6-astra': { inputPerMTok: 10, cacheReadPerMTok: 1, cacheWritePerMTok: 12.5, outputPerMTok: 50, source: `${OPENAI_MODELS}/gpt-6-astra (cache read and write as quoted by AI Token Meter 0.2.22 and PromptFuel v1.0.19)`, checked: '2026-12-03' },
  'gpt-6-sol': { inputPerMTok: 2, cacheReadPerMTok: 0.2, cacheWritePerMTok: 2.5, outputPerMTok: 10, source: `${OPENAI_MODELS}/gpt-6-sol`, checked: '2026-12-03' },
  'gpt-6-luna': { inputPerMTok: 0.1, cacheReadPerMTok: 0.01, cacheWritePerMTok: 0.125, outputPerMTok: 0.5, source: `${OPENAI_MODELS}/gpt-6-luna`, checked: '2026-12-03' },
  // OpenAI — GPT-5.6 family
  'gpt-5.6-sol': { inputPerMTok: 4, outputPerMTok: 20, source: `${OPENAI_MODELS} (GPT-5.6 Sol card, alias gpt-5.6; cached input not listed)`, checked: '2026-12-03' },
  'gpt-5.6': { inputPerMTok: 4, outputPerMTok: 20, source: `${OPENAI_MODELS} (alias of gpt-5.6-sol)`, checked: '2026-12-03' },
  'gpt-5.6-terra': { inputPerMTok: 2, cacheReadPerMTok: 0.2, outputPerMTok: 12, source: `${OPENAI_MODELS} (GPT-5.6 Terra card, price cut of 2026-07-30; cached input as quoted by PromptFuel v1.0.19)`, checked: '2026-12-03' },
  'gpt-5.6-luna': { inputPerMTok: 0.2, cacheReadPerMTok: 0.02, cacheWritePerMTok: 0.25, outputPerMTok: 1.2, source: `${OPENAI_MODELS}/gpt-5.6-luna`, checked: '2026-12-03' },
  // OpenAI — GPT-5.5 / 5.4 families
  'gpt-5.5': { inputPerMTok: 5, cacheReadPerMTok: 0.5, outputPerMTok: 30, source: `${OPENAI_PRICING} (as recorded by api-evangelist/openai plans/openai-plans-pricing.yml)`, checked: '2026-05-04' },
  'gpt-5.5-pro': { inputPerMTok: 30, outputPerMTok: 180, source: `${OPENAI_PRICING} (as recorded by api-evangelist/openai)`, checked: '2026-05-04' },
  'gpt-5.4': { inputPerMTok: 2.5, cacheReadPerMTok: 0.25, outputPerMTok: 15, source: `${OPENAI_PRICING} (as recorded by api-evangelist/openai)`, checked: '2026-05-04' },
  'gpt-5.4-mini': { inputPerMTok: 0.75, cacheReadPerMTok: 0.075, outputPerMTok: 4.5, source: `${OPENAI_PRICING} (as recorded by api-evangelist/openai)`, checked: '2026-05-04' },
  'gpt-5.4-nano': { inputPerMTok: 0.2, cacheReadPerMTok: 0.02, outputPerMTok: 1.25, source: `${OPENAI_PRICING} (as recorded by api-evangelist/openai)`, checked: '2026-05-04' },
  // OpenAI — GPT-5 family (earlier table, 2026-11-21)
  'gpt-5': { inputPerMTok: 1.25, cacheReadPerMTok: 0.125, outputPerMTok: 10, source: OPENAI_PRICING, checked: '2026-11-21' },
  'gpt-5-mini': { inputPerMTok: 0.25, cacheReadPerMTok: 0.025, outputPerMTok: 2, source: `${OPENAI_MODELS}/gpt-5-mini`, checked: '2026-11-21' },
  'gpt-5-nano': { inputPerMTok: 0.05, cacheReadPerMTok: 0.005, outputPerMTok: 0.4, source: `${OPENAI_MODELS}/gpt-5-nano`, checked: '2026-11-21' },
  'gpt-5-pro': { inputPerMTok: 15, outputPerMTok: 120, source: OPENAI_PRICING, checked: '2026-11-21' },
  'gpt-5.1': { inputPerMTok: 1.25, cacheReadPerMTok: 0.125, outputPerMTok: 10, source: OPENAI_PRICING, checked: '2026-11-21' },
  // OpenAI — GPT-4.1 / 4o families and reasoning models (earlier table, 2026-11-21)
  'gpt-4.1': { inputPerMTok: 2, cacheReadPerMTok: 0.5, outputPerMTok: 8, source: OPENAI_PRICING, checked: '2026-11-21' },
  'gpt-4.1-mini': { inputPerMTok: 0.4, cacheReadPerMTok: 0.1, outputPerMTok: 1.6, source: OPENAI_PRICING, checked: '2026-11-21' },
  'gpt-4.1-nano': { inputPerMTok: 0.1, cacheReadPerMTok: 0.025, outputPerMTok: 0.4, source: OPENAI_PRICING, checked: '2026-11-21' },
  'gpt-4o': { inputPerMTok: 2.5, cacheReadPerMTok: 1.25, outputPerMTok: 10, source: OPENAI_PRICING, checked: '2026-11-21' },
  // The original gpt-4o snapshot kept its launch price.
  'gpt-4o-2024-05-13': { inputPerMTok: 5, outputPerMTok: 15, source: OPENAI_PRICING, checked: '2026-11-21' },
  'gpt-4o-mini': { inputPerMTok: 0.15, cacheReadPerMTok: 0.075, outputPerMTok: 0.6, source: OPENAI_PRICING, checked: '2026-11-21' },
  o3: { inputPerMTok: 2, cacheReadPerMTok: 0.5, outputPerMTok: 8, source: `${OPENAI_PRICING} (after the June 2025 cut)`, checked: '2026-11-21' },
  'o3-pro': { inputPerMTok: 20, outputPerMTok: 80, source: OPENAI_PRICING, checked: '2026-11-21' },
  'o3-mini': { inputPerMTok: 1.1, cacheReadPerMTok: 0.55, outputPerMTok: 4.4, source: OPENAI_PRICING, checked: '2026-11-21' },
  'o4-mini': { inputPerMTok: 1.1, cacheReadPerMTok: 0.275, outputPerMTok: 4.4, source: OPENAI_PRICING, checked: '2026-11-21' },
  o1: { inputPerMTok: 15, cacheReadPerMTok: 7.5, outputPerMTok: 60, source: OPENAI_PRICING, checked: '2026-11-21' },

  // Anthropic — Claude 5.x (model overview pages list input, output, cache read)
  'claude-opus-5-5': { inputPerMTok: 4, cacheReadPerMTok: 0.2, cacheWritePerMTok: 5, outputPerMTok: 20, source: `${ANTHROPIC_MODELS}/opus-5-5/overview (price); id and cache read as quoted by PromptFuel v1.0.21`, checked: '2026-12-03' },
  'claude-opus-5': { inputPerMTok: 5, cacheReadPerMTok: 0.5, cacheWritePerMTok: 6.25, outputPerMTok: 25, source: `${ANTHROPIC_MODELS}/opus-5/overview`, checked: '2026-12-03' },
  'claude-sonnet-5-5': { inputPerMTok: 2, cacheReadPerMTok: 0.2, cacheWritePerMTok: 2.5, outputPerMTok: 10, source: `${ANTHROPIC_MODELS}/sonnet-5-5/overview`, checked: '2026-12-03' },
  'claude-sonnet-5': { inputPerMTok: 2, cacheReadPerMTok: 0.2, cacheWritePerMTok: 2.5, outputPerMTok: 10, source: `${ANTHROPIC_MODELS}/sonnet-5/overview`, checked: '2026-12-03' },
  // Haiku 5.5 is priced by prompt length: these are the rates up to 100K prompt tokens (5× above).
  'claude-haiku-5-5': { inputPerMTok: 0.1, cacheReadPerMTok: 0.01, cacheWritePerMTok: 0.125, outputPerMTok: 0.5, source: `${ANTHROPIC_MODELS}/haiku-5-5/overview (cache read as quoted by apidog.com)`, checked: '2026-12-03' },
  // Anthropic — Claude 4.x
  'claude-opus-4-8': { inputPerMTok: 5, cacheReadPerMTok: 0.5, cacheWritePerMTok: 6.25, outputPerMTok: 25, source: ANTHROPIC_PRICING, checked: '2026-12-03' },
  'claude-opus-4-7': { inputPerMTok: 5, cacheReadPerMTok: 0.5, cacheWritePerMTok: 6.25, outputPerMTok: 25, source: ANTHROPIC_PRICING, checked: '2026-12-03' },
  'claude-opus-4-6': { inputPerMTok: 5, cacheReadPerMTok: 0.5, cacheWritePerMTok: 6.25, outputPerMTok: 25, source: ANTHROPIC_PRICING, checked: '2026-12-03' },
  'claude-opus-4-5': { inputPerMTok: 5, cacheReadPerMTok: 0.5, cacheWritePerMTok: 6.25, outputPerMTok: 25, source: ANTHROPIC_PRICING, checked: '2026-12-03' },
  'claude-opus-4-1': { inputPerMTok: 15, cacheReadPerMTok: 1.5, cacheWritePerMTok: 18.75, outputPerMTok: 75, source: `${ANTHROPIC_PRICING} (retired except on Bedrock and Google Cloud)`, checked: '2026-12-03' },
  'claude-opus-4': { inputPerMTok: 15, cacheReadPerMTok: 1.5, cacheWritePerMTok: 18.75, outputPerMTok: 75, source: `${ANTHROPIC_PRICING} (retired except on Google Cloud)`, checked: '2026-12-03' },
  'claude-sonnet-4-6': { inputPerMTok: 3, cacheReadPerMTok: 0.3, cacheWritePerMTok: 3.75, outputPerMTok: 15, source: ANTHROPIC_PRICING, checked: '2026-11-21' },
  'claude-sonnet-4-5': { inputPerMTok: 3, cacheReadPerMTok: 0.3, cacheWritePerMTok: 3.75, outputPerMTok: 15, source: ANTHROPIC_PRICING, checked: '2026-11-21' },
  'claude-sonnet-4': { inputPerMTok: 3, cacheReadPerMTok: 0.3, cacheWritePerMTok: 3.75, outputPerMTok: 15, source: ANTHROPIC_PRICING, checked: '2026-11-21' },
  'claude-haiku-4-5': { inputPerMTok: 1, cacheReadPerMTok: 0.1, cacheWritePerMTok: 1.25, outputPerMTok: 5, source: `${ANTHROPIC_MODELS}/haiku-4-5/overview`, checked: '2026-12-03' },
  // Anthropic — Claude 3.x (earlier table, 2026-11-21)
  'claude-3-7-sonnet': { inputPerMTok: 3, cacheReadPerMTok: 0.3, cacheWritePerMTok: 3.75, outputPerMTok: 15, source: ANTHROPIC_PRICING, checked: '2026-11-21' },
  'claude-3-5-sonnet': { inputPerMTok: 3, cacheReadPerMTok: 0.3, cacheWritePerMTok: 3.75, outputPerMTok: 15, source: ANTHROPIC_PRICING, checked: '2026-11-21' },
  'claude-3-5-haiku': { inputPerMTok: 0.8, cacheReadPerMTok: 0.08, cacheWritePerMTok: 1, outputPerMTok: 4, source: ANTHROPIC_PRICING, checked: '2026-11-21' },
  'claude-3-haiku': { inputPerMTok: 0.25, cacheReadPerMTok: 0.03, cacheWritePerMTok: 0.3, outputPerMTok: 1.25, source: ANTHROPIC_PRICING, checked: '2026-11-21' },
  'claude-3-opus': { inputPerMTok: 15, cacheReadPerMTok: 1.5, cacheWritePerMTok: 18.75, outputPerMTok: 75, source: ANTHROPIC_PRICING, checked: '2026-11-21' },
} satisfies Record<string, PriceRow>);

/** The prices alone (what `pricing` merges over and `resolvePrice` reads). */
export const BUILTIN_PRICES: Readonly<Record<string, ModelPrice>> = Object.freeze(
  Object.fromEntries(
    Object.entries(PRICE_ROWS).map(([model, { source: _source, checked: _checked, ...price }]) => [model, price as ModelPrice]),
  ),
);
