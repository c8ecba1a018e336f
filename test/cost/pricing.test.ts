import { describe, expect, it } from 'vitest';
import { resolvePrice } from '../../src/cost/computeCost.js';
import { BUILTIN_PRICES, PRICES_AS_OF } from '../../src/cost/pricing.js';

describe('built-in prices', () => {
  it('is dated', () => {
    expect(PRICES_AS_OF).toMatch(/^\d{4}-\d{2}-\d{2}$/);
  });

  it.each([
    'gpt-4o',
    'gpt-4o-mini',
    'gpt-4.1',
    'gpt-4.1-mini',
    'gpt-4.1-nano',
    'o3',
    'o4-mini',
    'gpt-5',
    'gpt-5-mini',
    'gpt-5-nano',
    'claude-opus-4-1',
    'claude-opus-4',
    'claude-sonnet-4-5',
    'claude-sonnet-4',
    'claude-haiku-4-5',
    'claude-3-5-haiku',
  ])('prices %s with positive rates and a cached rate below the input rate', (model) => {
    const price = BUILTIN_PRICES[model];
    expect(price).toBeDefined();
    expect(price!.inputPerMTok).toBeGreaterThan(0);
    expect(price!.outputPerMTok).toBeGreaterThan(price!.inputPerMTok);
    expect(price!.cacheReadPerMTok).toBeGreaterThan(0);
    expect(price!.cacheReadPerMTok).toBeLessThan(price!.inputPerMTok);
  });

  it('has the published prices of the default chain models', () => {
    expect(BUILTIN_PRICES['gpt-4o']).toEqual({ inputPerMTok: 2.5, cacheReadPerMTok: 1.25, outputPerMTok: 10 });
    expect(BUILTIN_PRICES['claude-sonnet-4-5']).toEqual({ inputPerMTok: 3, cacheReadPerMTok: 0.3, cacheWritePerMTok: 3.75, outputPerMTok: 15 });
  });

  it.each([
    ['gpt-4o-2024-08-06', 'gpt-4o'],
    ['gpt-4o-2024-05-13', 'gpt-4o-2024-05-13'],
    ['gpt-4o-mini-2024-07-18', 'gpt-4o-mini'],
    ['gpt-4.1-mini-2025-04-14', 'gpt-4.1-mini'],
    ['gpt-5-2025-08-07', 'gpt-5'],
    ['gpt-5-mini-2025-08-07', 'gpt-5-mini'],
    ['o4-mini-2025-04-16', 'o4-mini'],
    ['o3-pro-2025-06-10', 'o3-pro'],
    ['claude-opus-4-1-20250805', 'claude-opus-4-1'],
    ['claude-opus-4-20250514', 'claude-opus-4'],
    ['claude-opus-4-0', 'claude-opus-4'],
    ['claude-sonnet-4-5-20250929', 'claude-sonnet-4-5'],
    ['claude-sonnet-4-20250514', 'claude-sonnet-4'],
    ['claude-haiku-4-5-20251001', 'claude-haiku-4-5'],
    ['claude-3-5-haiku-latest', 'claude-3-5-haiku'],
    ['claude-3-5-haiku-20241022', 'claude-3-5-haiku'],
  ])('resolves %s to %s', (model, key) => {
    expect(resolvePrice(model, BUILTIN_PRICES)).toBe(BUILTIN_PRICES[key]);
  });

  it('is frozen, so nobody edits the shared table by accident', () => {
    expect(Object.isFrozen(BUILTIN_PRICES)).toBe(true);
  });
});
