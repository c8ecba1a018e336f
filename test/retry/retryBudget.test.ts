import { describe, expect, it } from 'vitest';
import type { RetryBudgetConfig } from '../../src/config/types.js';
import { RetryBudget } from '../../src/retry/retryBudget.js';
import { createFakeClock } from '../support/fakeClock.js';

function setup(config: Partial<RetryBudgetConfig> = {}) {
  const clock = createFakeClock(0);
  const budget = new RetryBudget({ ratio: 0.1, minRetriesPerSecond: 1, windowMs: 10_000, ...config }, clock);
  return { clock, budget };
}

function withdrawAll(budget: RetryBudget): number {
  let n = 0;
  while (budget.tryWithdraw()) n++;
  return n;
}

describe('RetryBudget', () => {
  it('allows the floor (minRetriesPerSecond × window seconds) with no traffic at all', () => {
    const { budget } = setup({ minRetriesPerSecond: 1, windowMs: 10_000 });
    expect(budget.remaining()).toBe(10);
    expect(withdrawAll(budget)).toBe(10);
    expect(budget.remaining()).toBe(0);
    expect(budget.tryWithdraw()).toBe(false);
  });

  it('adds ratio × requests on top of the floor', () => {
    const { budget } = setup({ ratio: 0.1, minRetriesPerSecond: 0 });
    for (let i = 0; i < 25; i++) budget.recordRequest();
    expect(budget.remaining()).toBe(2); // floor(2.5)
    expect(withdrawAll(budget)).toBe(2);
    for (let i = 0; i < 5; i++) budget.recordRequest(); // 30 requests → 3 allowed, 2 spent
    expect(budget.remaining()).toBe(1);
  });

  it('allows no retries with a zero ratio and no floor', () => {
    const { budget } = setup({ ratio: 0, minRetriesPerSecond: 0 });
    for (let i = 0; i < 100; i++) budget.recordRequest();
    expect(budget.tryWithdraw()).toBe(false);
  });

  it('is not fooled by binary rounding (0.29 × 100 is 28.999999999999996)', () => {
    const { budget } = setup({ ratio: 0.29, minRetriesPerSecond: 0 });
    for (let i = 0; i < 100; i++) budget.recordRequest();
    expect(budget.remaining()).toBe(29);
  });

  it('bounds amplification when a provider dies: 1000 requests buy 100 + floor retries', () => {
    const { budget } = setup({ ratio: 0.1, minRetriesPerSecond: 1, windowMs: 10_000 });
    let retries = 0;
    for (let i = 0; i < 1_000; i++) {
      budget.recordRequest();
      if (budget.tryWithdraw()) retries++;
    }
    expect(retries).toBe(110);
  });

  it('refills as spent retries leave the window', () => {
    const { clock, budget } = setup({ ratio: 0, minRetriesPerSecond: 1, windowMs: 10_000 });
    expect(withdrawAll(budget)).toBe(10);
    clock.advance(9_999);
    expect(budget.remaining()).toBe(0);
    clock.advance(1);
    expect(budget.remaining()).toBe(10);
  });

  it('forgets old requests too: their share of the budget expires with them', () => {
    const { clock, budget } = setup({ ratio: 0.5, minRetriesPerSecond: 0, windowMs: 1_000 });
    for (let i = 0; i < 10; i++) budget.recordRequest();
    expect(budget.remaining()).toBe(5);
    clock.advance(1_000);
    expect(budget.remaining()).toBe(0);
  });
});
