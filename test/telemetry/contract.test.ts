/**
 * TELEMETRY.md is the contract dashboards, alerts and users' queries depend on. This test reads
 * its metric table and holds both `src/telemetry/names.ts` and what the observer really emits
 * (through a real SDK) to it: every instrument, its kind, unit, exactly its attribute keys, and
 * its Prometheus name; every name the spans section and the dashboard queries use.
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DataPointType, type MetricData } from '@opentelemetry/sdk-metrics';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ATTR, BULWARK_VERSION, EVENT, GATEWAY_METRICS, METRICS, PROMETHEUS_SERIES, SKIP_REASONS, SPAN, SPAN_NAME_PATTERNS, TOKEN_TYPES, type MetricKind } from '../../src/telemetry/names.js';
import { createSdk, Driver, FakeHealth, metric, newObserver, REQUEST, SAMPLE_LIMITS, TARGETS, type Sdk } from './harness.js';
import { createOtelObserver, type OtelObserverTarget } from '../../src/telemetry/otelObserver.js';

const here = dirname(fileURLToPath(import.meta.url));
const repoRoot = resolve(here, '../..');
// docs/TELEMETRY.md, shipped with the code, is the contract of record: nothing beside the repo overrides it.
const telemetryMd = readFileSync(resolve(repoRoot, 'docs/TELEMETRY.md'), 'utf8');

interface ContractRow {
  name: string;
  kind: MetricKind;
  /** Undefined when the table gives no unit (the one-hot state gauge). */
  unit: string | undefined;
  attributes: string[];
  prometheus: string;
  prometheusSeries: string[];
}

const SHORTHAND: Record<string, string> = {
  chain: 'bulwark.chain',
  provider: 'gen_ai.provider.name',
  model: 'gen_ai.request.model',
};

function parseMetricTable(md: string): ContractRow[] {
  const lines = md.split('\n');
  const header = lines.findIndex((l) => /^\|\s*instrument\s*\|/.test(l));
  if (header < 0) throw new Error('TELEMETRY.md: metric table not found');
  const rows: ContractRow[] = [];
  for (const line of lines.slice(header + 2)) {
    if (!line.startsWith('|')) break;
    const cells = line.split('|').slice(1, -1).map((c) => c.trim());
    const [instrumentCell, kindCell, attrCell, promCell] = cells;
    if (instrumentCell === undefined || kindCell === undefined || attrCell === undefined || promCell === undefined) {
      throw new Error(`TELEMETRY.md: malformed row ${line}`);
    }
    const name = /`([^`]+)`/.exec(instrumentCell)?.[1];
    const prom = /`([^`]+)`/.exec(promCell)?.[1];
    if (!name || !prom) throw new Error(`TELEMETRY.md: no instrument/Prometheus name in ${line}`);

    const kindParts = kindCell.split(',').map((s) => s.trim());
    const kindText = kindParts[0] ?? '';
    const kind: MetricKind =
      kindText === 'histogram' ? 'histogram' : kindText === 'counter' ? 'counter' : kindText === 'observable gauge' ? 'observable_gauge' : (() => {
        throw new Error(`TELEMETRY.md: unknown kind ${kindText}`);
      })();
    const unitText = kindParts[1];
    const unit = unitText !== undefined && /^(s|ms|By|1|\{[^}]+\})$/.test(unitText) ? unitText : undefined;

    let attrText = attrCell.replace(/\([^)]*\)/g, '');
    let attributes: string[] = [];
    if (attrText.startsWith('+')) {
      const previous = rows[rows.length - 1];
      if (!previous) throw new Error('TELEMETRY.md: "+" on the first row');
      attributes = [...previous.attributes];
      attrText = attrText.slice(1);
    }
    for (const raw of attrText.split(',')) {
      const key = raw.trim();
      if (key) attributes.push(SHORTHAND[key] ?? key);
    }

    const isHistogram = kind === 'histogram';
    const base = prom.replace(/_\*$/, '');
    rows.push({
      name,
      kind,
      unit,
      attributes,
      prometheus: base,
      prometheusSeries: isHistogram ? [`${base}_bucket`, `${base}_sum`, `${base}_count`] : [base],
    });
  }
  return rows;
}

const contract = parseMetricTable(telemetryMd);

/** An observer of a chain whose first position is pool 'gpt-4o' (members east and west), then `after`. */
function pooledObserver(sdk: Sdk, health: FakeHealth, after: OtelObserverTarget[] = []) {
  return createOtelObserver({
    chain: health.chain,
    targets: [
      { index: 0, provider: 'openai', model: 'gpt-4o', breaker: 'gpt-4o@east', pool: 'gpt-4o', member: 0 },
      { index: 0, provider: 'openai', model: 'gpt-4o', breaker: 'gpt-4o@west', pool: 'gpt-4o', member: 1 },
      ...after,
    ],
    snapshot: health.snapshot,
    captureContent: false,
    tracer: sdk.tracerProvider.getTracer('bulwark'),
    meter: sdk.meterProvider.getMeter('bulwark'),
  });
}

describe('names.ts matches TELEMETRY.md', () => {
  it('parses a non-trivial table', () => {
    expect(contract.length).toBe(19);
  });

  it('the same instruments, in the same order', () => {
    expect(METRICS.map((m) => m.name)).toEqual(contract.map((c) => c.name));
  });

  for (const row of contract) {
    it(`${row.name}: kind, unit, attribute keys, Prometheus name`, () => {
      const def = METRICS.find((m) => m.name === row.name);
      expect(def).toBeDefined();
      expect(def!.kind).toBe(row.kind);
      if (row.unit !== undefined) expect(def!.unit).toBe(row.unit);
      // Units that Prometheus would turn into a suffix the table does not show are not allowed.
      if (row.unit === undefined) expect(def!.unit).toMatch(/^(\{[^}]+\})?$/);
      expect([...def!.attributes].sort()).toEqual([...row.attributes].sort());
      expect(def!.prometheus).toBe(row.prometheus);
      expect(def!.prometheusSeries).toEqual(row.prometheusSeries);
      if (def!.kind === 'histogram') expect(def!.buckets?.length).toBeGreaterThan(0);
      if (def!.unit === 's') expect(def!.buckets).toEqual([0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92]);
    });
  }

  it('span name patterns are the documented ones', () => {
    expect(telemetryMd).toContain(`\`${SPAN_NAME_PATTERNS.request}\``);
    expect(telemetryMd).toContain(`\`${SPAN_NAME_PATTERNS.attempt}\``);
    expect(SPAN.request('chat', 'support-agent')).toBe('bulwark chat support-agent');
    expect(SPAN.attempt('chat', 'gpt-4o')).toBe('chat gpt-4o');
  });

  it('every event names.ts defines is documented', () => {
    expect(Object.values(EVENT).filter((e) => !telemetryMd.includes(`\`${e}\``))).toEqual([]);
  });

  it('every attribute, event and metric name the document mentions is defined in names.ts', () => {
    const known = new Set<string>([...Object.values(ATTR), ...Object.values(EVENT), ...METRICS.map((m) => m.name), ...GATEWAY_METRICS.map((m) => m.name)]);
    const mentioned = [...telemetryMd.matchAll(/`((?:gen_ai|bulwark|server|error|http)\.[a-z0-9_.]+)`/g)].map((m) => m[1]!);
    expect(mentioned.length).toBeGreaterThan(30);
    expect(mentioned.filter((n) => !known.has(n))).toEqual([]);
  });

  it('every Prometheus name and label the dashboard queries use is one names.ts produces', () => {
    const series = new Set(PROMETHEUS_SERIES);
    const labels = new Set(Object.values(ATTR).map((k) => k.replace(/\./g, '_')));
    const tokens = [...telemetryMd.matchAll(/\b((?:bulwark|gen_ai)_[a-z0-9_]+)/g)].map((m) => m[1]!);
    const unknown = tokens.filter((t) => !series.has(t) && !labels.has(t) && !PROMETHEUS_SERIES.some((s) => s.startsWith(t.replace(/_$/, ''))));
    expect(unknown).toEqual([]);
  });

  it('gen_ai.token.type: the documented values are exactly TOKEN_TYPES, semconv values first, the rest bulwark.-prefixed', () => {
    const line = telemetryMd.split('\n').find((l) => l.startsWith('`gen_ai.token.type` ∈'));
    expect(line, 'TELEMETRY.md lists the gen_ai.token.type values').toBeDefined();
    const documented = line!.replace(/^[^∈]*∈/, '').replace(/\.(\s.*)?$/, '').split(',').map((v) => v.trim());
    expect(documented).toEqual([...TOKEN_TYPES]);
    expect(TOKEN_TYPES.filter((t) => t !== 'input' && t !== 'output').every((t) => t.startsWith('bulwark.'))).toBe(true);
  });

  it('the instrumentation scope version is the package version', () => {
    const pkg = JSON.parse(readFileSync(resolve(repoRoot, 'package.json'), 'utf8')) as { version: string };
    expect(BULWARK_VERSION).toBe(pkg.version);
  });
});

describe('the observer emits exactly the contract', () => {
  let sdk: Sdk;
  let collected: MetricData[];

  beforeAll(async () => {
    sdk = createSdk();
    const health = new FakeHealth('contract');
    health.limits.set('openai/gpt-4o', SAMPLE_LIMITS);
    const observer = newObserver(sdk, health);
    observer.onLimitHeaderError?.({ breaker: 'openai/gpt-4o', header: 'x-ratelimit-remaining-requests' });
    // One request that touches every hook: cache miss, retry, breaker opening, a rejected
    // target, a hop, a failure that reported usage, a streamed success with a first chunk.
    const d = new Driver(observer, health, REQUEST, true);
    d.req?.onCacheLookup?.('miss');
    d.attempt(0, 'initial');
    d.fail('rate_limited', 100, 0.0001, { retryAfterMs: 200, usage: { inputTokens: 50, outputTokens: 0 } });
    d.scheduleRetry(200, 'rate_limited', 200);
    d.attempt(0, 'retry');
    d.fail('server_error');
    d.transition('openai/gpt-4o', 'closed', 'open', 'consecutive_failures');
    d.hop(0, 1, 'server_error');
    d.req?.onCircuitRejected?.({ target: { provider: 'anthropic', model: 'claude-sonnet-4-5', index: 1 }, breaker: 'anthropic/claude-sonnet-4-5' });
    d.hop(1, 2, 'circuit_open');
    const a = d.attempt(2, 'fallback');
    a?.onFirstChunk?.(120);
    d.succeed(900, undefined, 0.0003);
    d.req?.onHedge?.({ target: { provider: 'openai', model: 'llama3.1', index: 2 }, outcome: 'won' });
    d.end('success_via_fallback', 'reduced');
    // A chain whose first position is a pool: its attempts carry the pool and the member.
    const pooled = new FakeHealth('contract-pool');
    const poolObserver = pooledObserver(sdk, pooled);
    const req = poolObserver.onRequestStart?.({ id: 'pool-1', chain: pooled.chain, operation: 'chat', stream: false, request: REQUEST, startedAt: Date.now() });
    const member = { provider: 'openai', model: 'gpt-4o', index: 0, pool: 'gpt-4o', member: 1 };
    const attempt = req?.onAttemptStart?.({ request: { id: 'pool-1', chain: pooled.chain, operation: 'chat', stream: false, request: REQUEST, startedAt: Date.now() }, number: 1, kind: 'initial', target: member, breaker: 'gpt-4o@west', resendCount: 0 });
    attempt?.onEnd?.({ durationMs: 300, costUsd: 0 });
    req?.onEnd?.({ outcome: 'success', durationMs: 300, attempts: 1, retries: 0, hops: 0, costUsd: 0 });
    collected = await sdk.collect();
  });

  afterAll(async () => {
    await sdk.shutdown();
  });

  const pointType: Record<MetricKind, DataPointType> = {
    histogram: DataPointType.HISTOGRAM,
    counter: DataPointType.SUM,
    observable_gauge: DataPointType.GAUGE,
  };

  for (const row of contract) {
    it(`${row.name} is emitted with its unit and exactly its attribute keys`, () => {
      const m = collected.find((x) => x.descriptor.name === row.name);
      expect(m, `${row.name} was not emitted`).toBeDefined();
      const def = METRICS.find((d) => d.name === row.name)!;
      expect(m!.descriptor.unit).toBe(def.unit);
      expect(m!.dataPointType).toBe(pointType[row.kind]);
      if (m!.dataPointType === DataPointType.SUM) expect(m!.isMonotonic).toBe(true);
      expect(m!.dataPoints.length).toBeGreaterThan(0);
      const allowed = new Set(row.attributes);
      const union = new Set<string>();
      for (const p of m!.dataPoints) {
        const keys = Object.keys(p.attributes);
        expect(keys.filter((k) => !allowed.has(k)), `${row.name} point with unexpected keys`).toEqual([]);
        // Only the conditional keys (error.type on failures) may be missing from a point.
        const missing = row.attributes.filter((k) => !keys.includes(k));
        expect(missing.filter((k) => !(def.conditionalAttributes ?? []).includes(k))).toEqual([]);
        keys.forEach((k) => union.add(k));
      }
      expect([...union].sort()).toEqual([...row.attributes].sort());
    });
  }
});

describe('pool members on attempts (issue 15)', () => {
  it('an attempt of a pool member carries bulwark.pool.name and bulwark.pool.member on its span and on bulwark.attempts', async () => {
    const sdk = createSdk();
    try {
      const health = new FakeHealth('pool-attrs');
      const observer = pooledObserver(sdk, health, [{ index: 1, provider: 'anthropic', model: 'claude-sonnet-4-6', breaker: 'anthropic/claude-sonnet-4-6' }]);
      const info = { id: 'p', chain: health.chain, operation: 'chat' as const, stream: false, request: REQUEST, startedAt: Date.now() };
      const req = observer.onRequestStart?.(info);
      const west = req?.onAttemptStart?.({ request: info, number: 1, kind: 'initial', target: { provider: 'openai', model: 'gpt-4o', index: 0, pool: 'gpt-4o', member: 1 }, breaker: 'gpt-4o@west', resendCount: 0 });
      west?.onEnd?.({ durationMs: 100, costUsd: 0 });
      const backup = req?.onAttemptStart?.({ request: info, number: 2, kind: 'fallback', target: { provider: 'anthropic', model: 'claude-sonnet-4-6', index: 1 }, breaker: 'anthropic/claude-sonnet-4-6', resendCount: 0 });
      backup?.onEnd?.({ durationMs: 100, costUsd: 0 });
      req?.onEnd?.({ outcome: 'success_via_fallback', durationMs: 200, attempts: 2, retries: 0, hops: 1, costUsd: 0 });
      const points = metric(await sdk.collect(), 'bulwark.attempts').dataPoints;
      const counted = points.filter((p) => (p.value as number) > 0).map((p) => [p.attributes[ATTR.POOL_NAME], p.attributes[ATTR.POOL_MEMBER], p.attributes[ATTR.GEN_AI_PROVIDER_NAME]]);
      expect(counted).toEqual([
        ['gpt-4o', 'gpt-4o@west', 'openai'],
        [undefined, undefined, 'anthropic'],
      ]);
      // Both members' series exist from the start (pre-created at 0): the traffic split reads them.
      const members = new Set(points.map((p) => p.attributes[ATTR.POOL_MEMBER]).filter((m) => m !== undefined));
      expect([...members].sort()).toEqual(['gpt-4o@east', 'gpt-4o@west']);
      const spans = sdk.spans().filter((s) => s.name.startsWith('chat '));
      expect(spans.map((s) => [s.attributes[ATTR.POOL_NAME], s.attributes[ATTR.POOL_MEMBER]])).toEqual([
        ['gpt-4o', 'gpt-4o@west'],
        [undefined, undefined],
      ]);
    } finally {
      await sdk.shutdown();
    }
  });
});

describe('attribute values and events beyond the metric table (issue 12: unsupported_input, bulwark.clamped)', () => {
  let sdk: Sdk;
  let collected: MetricData[];

  beforeAll(async () => {
    sdk = createSdk();
    const health = new FakeHealth('contract-values');
    const d = new Driver(newObserver(sdk, health), health, { ...REQUEST, maxTokens: 8_000 });
    // Target 0 cannot take the request's image: skipped with no attempt; target 1 clamps maxTokens.
    d.hop(0, 1, 'unsupported_input');
    const a = d.attempt(1, 'fallback');
    a?.onClamped?.({ requested: 8_000, allowed: 4_096 });
    d.succeed();
    d.end('success_via_fallback', 'reduced');
    collected = await sdk.collect();
  });

  afterAll(async () => {
    await sdk.shutdown();
  });

  it('TELEMETRY.md names every skip reason as a bulwark.fallback.reason value, and the clamped event with its attributes', () => {
    const reasons = /`bulwark\.fallback\.reason`[^\n]*(?:\n[^\n]+)*/.exec(telemetryMd)?.[0] ?? '';
    for (const reason of SKIP_REASONS) expect(reasons).toContain(`\`${reason}\``);
    expect(telemetryMd).toContain(`\`${EVENT.CLAMPED}\` (\`${ATTR.CLAMPED_REQUESTED}\`, \`${ATTR.CLAMPED_ALLOWED}\`)`);
  });

  it('a skip for unsupported_input is counted on bulwark.fallbacks and recorded as a bulwark.fallback event', () => {
    const point = metric(collected, METRICS.find((m) => m.name === 'bulwark.fallbacks')!.name).dataPoints.find((p) => p.attributes[ATTR.FALLBACK_REASON] === 'unsupported_input');
    expect(point?.value).toBe(1);
    const request = sdk.spans().find((s) => s.name === SPAN.request('chat', 'contract-values'))!;
    expect(request.events.find((e) => e.name === EVENT.FALLBACK)?.attributes?.[ATTR.FALLBACK_REASON]).toBe('unsupported_input');
  });

  it('a clamp is a bulwark.clamped event on the attempt span, whose gen_ai.request.max_tokens is what was sent', () => {
    const attempt = sdk.spans().find((s) => s.name === SPAN.attempt('chat', TARGETS[1]!.model))!;
    const clamped = attempt.events.find((e) => e.name === EVENT.CLAMPED);
    expect(clamped?.attributes).toEqual({ [ATTR.CLAMPED_REQUESTED]: 8_000, [ATTR.CLAMPED_ALLOWED]: 4_096 });
    expect(attempt.attributes[ATTR.GEN_AI_REQUEST_MAX_TOKENS]).toBe(4_096);
  });
});
