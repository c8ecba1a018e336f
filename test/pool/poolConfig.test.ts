/**
 * Bad pool input is a ConfigError naming the field, at construction; good input builds a chain
 * whose health shows the pool member by member.
 */
import { describe, expect, it } from 'vitest';
import { createResilientLLM } from '../../src/createResilientLLM.js';
import { pool } from '../../src/pool/pool.js';
import { createOperatorHandler } from '../../src/operator/index.js';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { scriptedAdapter, scriptedTarget } from '../support/scriptedAdapter.js';
import { errorOf } from '../support/configError.js';

const east = scriptedTarget(scriptedAdapter('openai', 'gpt-4o'), { breakerKey: 'gpt-4o@east' });
const west = scriptedTarget(scriptedAdapter('openai', 'gpt-4o'), { breakerKey: 'gpt-4o@west' });
const chainOf = (...targets: unknown[]) => ({ name: 'pooled', telemetry: false, targets });


describe('pool configuration', () => {
  it.each([
    ['no members', 'targets[0].members', pool({ name: 'p', members: [] }), /empty|at least one/],
    ['members not an array', 'targets[0].members', pool({ name: 'p', members: undefined as never }), /array/],
    ['the same target twice', 'targets[0].members[1]', pool({ name: 'p', members: [east, east] }), /duplicates members\[0\].*gpt-4o@east/],
    [
      'two members on one default breaker key',
      'targets[0].members[1]',
      pool({ name: 'p', members: [scriptedTarget(scriptedAdapter('openai', 'gpt-4o')), scriptedTarget(scriptedAdapter('openai', 'gpt-4o'))] }),
      /openai\/gpt-4o.*breakerKey/,
    ],
    ['weight 0', 'targets[0].members[0].weight', pool({ name: 'p', members: [{ target: east, weight: 0 }, west] }), /> 0|above 0|greater/],
    ['negative weight', 'targets[0].members[1].weight', pool({ name: 'p', members: [east, { target: west, weight: -1 }] }), /.+/],
    ['NaN weight', 'targets[0].members[1].weight', pool({ name: 'p', members: [east, { target: west, weight: Number.NaN }] }), /finite|number/],
    ['infinite weight', 'targets[0].members[1].weight', pool({ name: 'p', members: [east, { target: west, weight: Number.POSITIVE_INFINITY }] }), /finite|number/],
    ['a string weight', 'targets[0].members[1].weight', pool({ name: 'p', members: [east, { target: west, weight: '2' as never }] }), /number/],
    ['unknown strategy', 'targets[0].strategy', pool({ name: 'p', members: [east, west], strategy: 'round-robin' as never }), /weighted.*least-busy.*latency.*cost/],
    ['no name', 'targets[0].name', pool({ name: '' as never, members: [east] }), /1-64/],
    ['an unknown key', 'targets[0].stratgy', { kind: 'pool', options: { name: 'p', members: [east], stratgy: 'cost' } }, /.+/],
    ['a member that is not a target', 'targets[0].members[1]', pool({ name: 'p', members: [east, 'gpt-4o' as never] }), /object/],
    ['negative latency tolerance', 'targets[0].latency.tolerance', pool({ name: 'p', members: [east], strategy: 'latency', latency: { tolerance: -0.1 } }), /.+/],
    ['zero latency window', 'targets[0].latency.windowMs', pool({ name: 'p', members: [east], strategy: 'latency', latency: { windowMs: 0 } }), /.+/],
    ['latency percentile 0', 'targets[0].latency.percentile', pool({ name: 'p', members: [east], strategy: 'latency', latency: { percentile: 0 } }), /must be > 0/],
    ['latency percentile above 100', 'targets[0].latency.percentile', pool({ name: 'p', members: [east], strategy: 'latency', latency: { percentile: 101 } }), /at most 100/],
    ['latency percentile as a string', 'targets[0].latency.percentile', pool({ name: 'p', members: [east], strategy: 'latency', latency: { percentile: 'p95' as never } }), /finite number/],
    ['fractional latency minSamples', 'targets[0].latency.minSamples', pool({ name: 'p', members: [east], strategy: 'latency', latency: { minSamples: 2.5 } }), /integer/],
    ['zero latency minSamples', 'targets[0].latency.minSamples', pool({ name: 'p', members: [east], strategy: 'latency', latency: { minSamples: 0 } }), />= 1/],
    ['random not a function', 'targets[0].random', pool({ name: 'p', members: [east], random: 0.5 as never }), /function/],
  ])('%s → ConfigError naming %s', (_, field, position, message) => {
    const e = errorOf(chainOf(position));
    expect(e.field).toBe(field);
    expect(e.message).toMatch(message);
  });

  it('strategy cost needs a price for every member', () => {
    const unpriced = scriptedTarget(scriptedAdapter('local', 'llama-house'), { breakerKey: 'llama@a' });
    const e = errorOf(chainOf(pool({ name: 'p', strategy: 'cost', members: [east, unpriced] })));
    expect(e.field).toBe('targets[0].members[1].pricing');
    expect(e.message).toContain("'llama-house'");
    // With a price from the chain's table it is fine.
    expect(() => createResilientLLM({ ...chainOf(pool({ name: 'p', strategy: 'cost', members: [east, unpriced] })), pricing: { 'llama-house': { inputPerMTok: 0.1, outputPerMTok: 0.1 } } } as never)).not.toThrow();
  });

  it('a pool position and a target position build one chain; health shows the members', () => {
    const backup = scriptedTarget(scriptedAdapter('anthropic', 'claude-sonnet-4-5'));
    const llm = createResilientLLM(chainOf(pool({ name: 'gpt-4o', strategy: 'least-busy', members: [{ target: east, weight: 3 }, west] }), backup) as never);
    const health = llm.health();
    expect(health.targets.map((t) => [t.index, t.breaker, t.pool, t.member, t.inFlight])).toEqual([
      [0, 'gpt-4o@east', 'gpt-4o', 0, 0],
      [0, 'gpt-4o@west', 'gpt-4o', 1, 0],
      [1, 'anthropic/claude-sonnet-4-5', undefined, undefined, 0],
    ]);
    expect(health.pools).toEqual([
      {
        index: 0,
        name: 'gpt-4o',
        strategy: 'least-busy',
        members: [
          { member: 0, provider: 'openai', model: 'gpt-4o', breaker: 'gpt-4o@east', state: 'closed', inFlight: 0, weight: 3, recentP50Ms: null, latencyScoreMs: null },
          { member: 1, provider: 'openai', model: 'gpt-4o', breaker: 'gpt-4o@west', state: 'closed', inFlight: 0, weight: 1, recentP50Ms: null, latencyScoreMs: null },
        ],
      },
    ]);
  });

  it('forceBreaker by index refuses a pool position and names its members; by key it reaches one member', async () => {
    const llm = createResilientLLM(chainOf(pool({ name: 'gpt-4o', members: [east, west] })) as never);
    expect(() => llm.forceBreaker(0, 'open')).toThrow(/gpt-4o@east, gpt-4o@west/);
    await llm.forceBreaker('gpt-4o@west', 'open');
    expect(llm.health().pools![0]!.members.map((m) => m.state)).toEqual(['closed', 'open']);
  });

  it('the operator handler shows the pool member by member, with a forced-open member', async () => {
    const llm = createResilientLLM(chainOf(pool({ name: 'gpt-4o', strategy: 'weighted', members: [{ target: east, weight: 2 }, west] })) as never);
    await llm.chat({ messages: [{ role: 'user', content: 'hi' }] });
    await llm.forceBreaker('gpt-4o@east', 'open');
    const server = createServer(createOperatorHandler({ llms: llm, token: 'op-token-0123456789abcdef' }));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const body = (await (await fetch(`http://127.0.0.1:${port}/bulwark/health`)).json()) as { chains: Array<{ pools: unknown }> };
      expect(body.chains[0]!.pools).toEqual([
        {
          index: 0,
          name: 'gpt-4o',
          strategy: 'weighted',
          members: [
            expect.objectContaining({ member: 0, breaker: 'gpt-4o@east', state: 'open', inFlight: 0, weight: 2 }),
            expect.objectContaining({ member: 1, breaker: 'gpt-4o@west', state: 'closed', inFlight: 0, weight: 1 }),
          ],
        },
      ]);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

describe('pool configuration: hedging and member limits', () => {
  it.each([
    ['hedge.after 0', 'targets[0].hedge.after', pool({ name: 'p', members: [east, west], hedge: { after: 0 } }), /> 0/],
    ['hedge.after negative', 'targets[0].hedge.after', pool({ name: 'p', members: [east, west], hedge: { after: -50 } }), /> 0/],
    ['hedge.after NaN', 'targets[0].hedge.after', pool({ name: 'p', members: [east, west], hedge: { after: Number.NaN } }), /finite/],
    ['hedge.after a percentile not tracked', 'targets[0].hedge.after', pool({ name: 'p', members: [east, west], hedge: { after: 'p75' as never } }), /'p50', 'p95'/],
    ['hedge.maxHedges 0', 'targets[0].hedge.maxHedges', pool({ name: 'p', members: [east, west], hedge: { after: 100, maxHedges: 0 } }), />= 1/],
    ['hedge.budgetRatio above 1', 'targets[0].hedge.budgetRatio', pool({ name: 'p', members: [east, west], hedge: { after: 100, budgetRatio: 2 } }), /at most 1/],
    [
      'a member with rpm 0',
      'targets[0].members[1].limits.rpm',
      pool({ name: 'p', members: [east, scriptedTarget(scriptedAdapter('openai', 'gpt-4o'), { breakerKey: 'gpt-4o@north', limits: { rpm: 0 } })] }),
      /.+/,
    ],
    [
      'a weighted member with a negative tpm',
      'targets[0].members[0].target.limits.tpm',
      pool({ name: 'p', members: [{ target: scriptedTarget(scriptedAdapter('openai', 'gpt-4o'), { breakerKey: 'gpt-4o@north', limits: { tpm: -1 } }), weight: 2 }, west] }),
      /.+/,
    ],
    [
      'a member with maxConcurrent not finite',
      'targets[0].members[1].limits.maxConcurrent',
      pool({ name: 'p', members: [east, scriptedTarget(scriptedAdapter('openai', 'gpt-4o'), { breakerKey: 'gpt-4o@north', limits: { maxConcurrent: Number.POSITIVE_INFINITY } })] }),
      /.+/,
    ],
    [
      'a member with a negative queueMs',
      'targets[0].members[1].limits.queueMs',
      pool({ name: 'p', members: [east, scriptedTarget(scriptedAdapter('openai', 'gpt-4o'), { breakerKey: 'gpt-4o@north', limits: { queueMs: -1 } })] }),
      /.+/,
    ],
  ])('%s → ConfigError naming %s', (_, field, position, message) => {
    const e = errorOf(chainOf(position));
    expect(e.field).toBe(field);
    expect(e.message).toMatch(message);
  });
});
