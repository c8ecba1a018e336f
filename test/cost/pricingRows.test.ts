import { describe, expect, it } from 'vitest';
import { resolvePrice } from '../../src/cost/computeCost.js';
import { BUILTIN_PRICES, PRICE_ROWS, PRICES_AS_OF } from '../../src/cost/pricing.js';

describe('built-in price rows', () => {
  const rows = Object.entries(PRICE_ROWS);

  it.each(rows)('%s has a source and a date no later than PRICES_AS_OF', (_model, row) => {
    expect(row.source).toMatch(/^https:\/\/(developers\.openai\.com|platform\.claude\.com)\//);
    expect(row.checked).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect(row.checked <= PRICES_AS_OF).toBe(true);
  });

  it.each(rows)('%s: rates are sane (output above input, cache reads below input, cache writes at or above it)', (_model, row) => {
    expect(row.inputPerMTok).toBeGreaterThan(0);
    expect(row.outputPerMTok).toBeGreaterThan(row.inputPerMTok);
    if (row.cacheReadPerMTok !== undefined) expect(row.cacheReadPerMTok).toBeLessThan(row.inputPerMTok);
    if (row.cacheWritePerMTok !== undefined) expect(row.cacheWritePerMTok).toBeGreaterThanOrEqual(row.inputPerMTok);
  });

  it('BUILTIN_PRICES is the rows without their provenance', () => {
    expect(Object.keys(BUILTIN_PRICES)).toEqual(Object.keys(PRICE_ROWS));
    for (const [model, { source: _s, checked: _c, ...price }] of rows) expect(BUILTIN_PRICES[model]).toEqual(price);
  });

  it('has the current families of both providers', () => {
    for (const model of ['gpt-6.2-sol', 'gpt-6-luna', 'gpt-6-astra', 'gpt-5.6-terra', 'gpt-5.5', 'claude-opus-5-5', 'claude-sonnet-5-5', 'claude-haiku-5-5']) {
      expect(BUILTIN_PRICES[model], model).toBeDefined();
    }
  });

  it.each([
    ['gpt-6-sol-2026-09-22', 'gpt-6-sol'],
    ['gpt-6.2-sol-2026-11-18', 'gpt-6.2-sol'],
    ['gpt-6-luna-2026-09-22', 'gpt-6-luna'],
    ['gpt-5.6-terra-2026-07-09', 'gpt-5.6-terra'],
    ['gpt-5.4-mini-2026-03-17', 'gpt-5.4-mini'],
    ['claude-opus-5-20260724', 'claude-opus-5'],
    ['claude-opus-5-5-20260922', 'claude-opus-5-5'],
    ['claude-sonnet-5-5@20260928', 'claude-sonnet-5-5'],
    ['claude-haiku-5-5-20261007', 'claude-haiku-5-5'],
    ['claude-opus-4-8-20260601', 'claude-opus-4-8'],
  ])('resolves the dated snapshot %s to its family %s', (model, family) => {
    expect(resolvePrice(model, BUILTIN_PRICES)).toBe(BUILTIN_PRICES[family]);
  });

  it('a newer family never borrows an older one\'s price', () => {
    // '.' is no snapshot separator: gpt-6.3-sol is unknown, not gpt-6-*.
    expect(resolvePrice('gpt-6.3-sol', BUILTIN_PRICES)).toBeUndefined();
    expect(resolvePrice('claude-opus-5-5', BUILTIN_PRICES)).toBe(BUILTIN_PRICES['claude-opus-5-5']);
    expect(resolvePrice('claude-opus-5-5', BUILTIN_PRICES)).not.toBe(BUILTIN_PRICES['claude-opus-5']);
  });
});
