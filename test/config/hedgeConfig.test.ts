import { describe, expect, it } from 'vitest';
import { createResilientLLM } from '../../src/createResilientLLM.js';
import { ConfigError } from '../../src/errors/bulwarkError.js';
import { scriptedAdapter, scriptedTarget } from '../support/scriptedAdapter.js';

const two = [scriptedTarget(scriptedAdapter('openai', 'gpt-4o')), scriptedTarget(scriptedAdapter('anthropic', 'claude-sonnet-4-5'))];
const base = { name: 'chain', targets: two, telemetry: false };

function errorOf(options: unknown): ConfigError {
  try {
    createResilientLLM(options as never);
  } catch (e) {
    if (e instanceof ConfigError) return e;
    throw e;
  }
  throw new Error('expected a ConfigError');
}

describe('hedge config', () => {
  it.each([
    [{ after: 0 }, 'hedge.after', 'must be > 0'],
    [{ after: -100 }, 'hedge.after', 'must be > 0'],
    [{ after: Number.NaN }, 'hedge.after', 'finite'],
    [{ after: Number.POSITIVE_INFINITY }, 'hedge.after', 'finite'],
    [{ after: 'p99' }, 'hedge.after', "'p50', 'p95'"],
    [{}, 'hedge.after', 'is required'],
    [{ after: '200' }, 'hedge.after', 'tracked latency percentile'],
    [{ after: 200, maxHedges: 0 }, 'hedge.maxHedges', '>= 1'],
    [{ after: 200, maxHedges: 1.5 }, 'hedge.maxHedges', 'integer'],
    [{ after: 200, budgetRatio: 0 }, 'hedge.budgetRatio', '> 0'],
    [{ after: 200, budgetRatio: 1.5 }, 'hedge.budgetRatio', 'at most 1'],
    [{ after: 200, budgetRatio: Number.NaN }, 'hedge.budgetRatio', 'finite'],
    [{ after: 200, budget: 0.1 }, 'hedge.budget', ''],
    ['fast', 'hedge', ''],
  ])('hedge %j → ConfigError naming %s', (hedge, field, problem) => {
    const err = errorOf({ ...base, hedge });
    expect(err.field).toBe(field);
    expect(err.message).toContain(problem);
  });

  it('a chain of one target has nowhere to hedge; maxHops 0 forbids the hop a hedge is', () => {
    expect(errorOf({ ...base, targets: [two[0]], hedge: { after: 200 } }).field).toBe('hedge');
    expect(errorOf({ ...base, maxHops: 0, hedge: { after: 200 } }).message).toContain('maxHops');
  });

  it('accepts a delay or a tracked percentile, with the defaults of one hedge and a 5 % budget', () => {
    expect(() => createResilientLLM({ ...base, hedge: { after: 250 } })).not.toThrow();
    expect(() => createResilientLLM({ ...base, hedge: { after: 'p95', maxHedges: 2, budgetRatio: 1 } })).not.toThrow();
    expect(() => createResilientLLM({ ...base, hedge: { after: 'p50' } })).not.toThrow();
  });
});
