import { describe, expect, it } from 'vitest';
import { costOf, resolvePrice } from '../../src/cost/computeCost.js';
import { BUILTIN_PRICES } from '../../src/cost/pricing.js';
import type { ModelPrice } from '../../src/providers/adapter.js';

const TABLE: Record<string, ModelPrice> = {
  'gpt-4o': { inputPerMTok: 2.5, outputPerMTok: 10, cacheReadPerMTok: 1.25 },
  'gpt-4o-mini': { inputPerMTok: 0.15, outputPerMTok: 0.6 },
  'claude-sonnet-4': { inputPerMTok: 3, outputPerMTok: 15 },
  'claude-sonnet-4-5': { inputPerMTok: 3.5, outputPerMTok: 16 },
  o3: { inputPerMTok: 2, outputPerMTok: 8 },
};

describe('resolvePrice', () => {
  it('finds an exact key', () => {
    expect(resolvePrice('gpt-4o', TABLE)).toBe(TABLE['gpt-4o']);
    expect(resolvePrice('gpt-4o-mini', TABLE)).toBe(TABLE['gpt-4o-mini']);
  });

  it('maps a dated snapshot to its model', () => {
    expect(resolvePrice('gpt-4o-2024-08-06', TABLE)).toBe(TABLE['gpt-4o']);
    expect(resolvePrice('gpt-4o-mini-2024-07-18', TABLE)).toBe(TABLE['gpt-4o-mini']);
    expect(resolvePrice('claude-sonnet-4-5-20250929', TABLE)).toBe(TABLE['claude-sonnet-4-5']);
    expect(resolvePrice('claude-sonnet-4-20250514', TABLE)).toBe(TABLE['claude-sonnet-4']);
    expect(resolvePrice('o3-2025-04-16', TABLE)).toBe(TABLE.o3);
  });

  it('prefers the longest matching key', () => {
    expect(resolvePrice('claude-sonnet-4-5-latest', TABLE)).toBe(TABLE['claude-sonnet-4-5']);
  });

  it("accepts '@' as a version separator (Vertex AI style)", () => {
    expect(resolvePrice('claude-sonnet-4-5@20250929', TABLE)).toBe(TABLE['claude-sonnet-4-5']);
  });

  it('does not match a key that is only a prefix of a longer word', () => {
    expect(resolvePrice('gpt-4omni', TABLE)).toBeUndefined();
    expect(resolvePrice('o3x', TABLE)).toBeUndefined();
    expect(resolvePrice('gpt-4', TABLE)).toBeUndefined();
  });

  it('ignores case', () => {
    expect(resolvePrice('GPT-4o-2024-08-06', TABLE)).toBe(TABLE['gpt-4o']);
  });

  it('returns undefined for an unknown model', () => {
    expect(resolvePrice('llama3.1', TABLE)).toBeUndefined();
    expect(resolvePrice('', TABLE)).toBeUndefined();
  });

  it('does not find inherited object properties', () => {
    expect(resolvePrice('constructor', TABLE)).toBeUndefined();
    expect(resolvePrice('toString', {})).toBeUndefined();
  });
});

describe('costOf', () => {
  it('prices input and output per million tokens', () => {
    expect(costOf({ inputTokens: 1_000_000, outputTokens: 1_000_000 }, TABLE['gpt-4o'])).toBe(12.5);
    expect(costOf({ inputTokens: 2_000, outputTokens: 500 }, TABLE['gpt-4o'])).toBeCloseTo(0.01, 12);
  });

  it('charges cached input tokens (part of inputTokens) at the cached rate', () => {
    // 600k uncached × 2.5 + 400k cached × 1.25 + 0 output = 1.5 + 0.5
    expect(costOf({ inputTokens: 1_000_000, cacheReadTokens: 400_000, outputTokens: 0 }, TABLE['gpt-4o'])).toBeCloseTo(2, 12);
  });

  it('charges cached tokens at the input rate when the price has no cached rate', () => {
    expect(costOf({ inputTokens: 1_000_000, cacheReadTokens: 400_000, outputTokens: 0 }, TABLE['gpt-4o-mini'])).toBeCloseTo(0.15, 12);
  });

  it('never counts more cached tokens than input tokens', () => {
    expect(costOf({ inputTokens: 100_000, cacheReadTokens: 900_000, outputTokens: 0 }, TABLE['gpt-4o'])).toBeCloseTo(0.125, 12);
  });

  it('charges cache writes (part of inputTokens) at the cache-write rate, reads at the read rate', () => {
    const price: ModelPrice = { inputPerMTok: 3, outputPerMTok: 15, cacheReadPerMTok: 0.3, cacheWritePerMTok: 3.75 };
    // 100k plain × 3 + 200k read × 0.3 + 700k written × 3.75 + 10k output × 15
    const usage = { inputTokens: 1_000_000, cacheReadTokens: 200_000, cacheWriteTokens: 700_000, outputTokens: 10_000 };
    expect(costOf(usage, price)).toBeCloseTo((100_000 * 3 + 200_000 * 0.3 + 700_000 * 3.75 + 10_000 * 15) / 1e6, 12);
  });

  it('charges cache writes at the input rate when the price has no write rate (OpenAI)', () => {
    expect(costOf({ inputTokens: 1_000_000, cacheWriteTokens: 1_000_000, outputTokens: 0 }, TABLE['gpt-4o'])).toBeCloseTo(2.5, 12);
  });

  it('never counts reads and writes together beyond the input', () => {
    const price: ModelPrice = { inputPerMTok: 3, outputPerMTok: 15, cacheReadPerMTok: 0.3, cacheWritePerMTok: 3.75 };
    // 1M input of which 800k read: at most 200k can have been written.
    expect(costOf({ inputTokens: 1_000_000, cacheReadTokens: 800_000, cacheWriteTokens: 900_000, outputTokens: 0 }, price)).toBeCloseTo((800_000 * 0.3 + 200_000 * 3.75) / 1e6, 12);
  });

  it('charges reasoning tokens as the output they are part of, not on top of it', () => {
    expect(costOf({ inputTokens: 0, outputTokens: 1_000, reasoningTokens: 800 }, TABLE['o3'])).toBeCloseTo((1_000 * 8) / 1e6, 12);
  });

  it('is 0 when the price is unknown', () => {
    expect(costOf({ inputTokens: 1_000, outputTokens: 1_000 }, undefined)).toBe(0);
  });

  it('treats negative or non-finite counts as 0', () => {
    expect(costOf({ inputTokens: -5, outputTokens: Number.NaN, cacheReadTokens: Infinity }, TABLE['gpt-4o'])).toBe(0);
  });

  it('works with the built-in table end to end', () => {
    const price = resolvePrice('claude-haiku-4-5-20251001', BUILTIN_PRICES);
    expect(costOf({ inputTokens: 10_000, cacheReadTokens: 8_000, outputTokens: 1_000 }, price)).toBeCloseTo((2_000 * 1 + 8_000 * 0.1 + 1_000 * 5) / 1e6, 12);
  });
});
