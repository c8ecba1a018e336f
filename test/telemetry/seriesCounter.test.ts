import { MeterProvider, MetricReader, type MetricData } from '@opentelemetry/sdk-metrics';
import { afterEach, describe, expect, it } from 'vitest';
import { METRIC } from '../../src/telemetry/names.js';
import { createOtelObserver } from '../../src/telemetry/otelObserver.js';
import { Driver, FakeHealth, TARGETS, sumOf } from './harness.js';

// The request-path counters sum their increments per series and hand them to the SDK at each
// collection (src/telemetry/seriesCounter.ts). Through the real SDK: every reader sees every count,
// whenever it collects, and nothing is lost when the observer closes between two collections.

class Reader extends MetricReader {
  protected override async onShutdown(): Promise<void> {}
  protected override async onForceFlush(): Promise<void> {}
  async metrics(): Promise<MetricData[]> {
    const { resourceMetrics, errors } = await this.collect();
    if (errors.length > 0) throw new AggregateError(errors, 'metric collection failed');
    return resourceMetrics.scopeMetrics.flatMap((s) => s.metrics);
  }
}

const providers: MeterProvider[] = [];
afterEach(async () => {
  await Promise.all(providers.splice(0).map((p) => p.shutdown()));
});

function setup(options: { callerAttributes?: boolean } = {}) {
  const first = new Reader();
  const second = new Reader();
  const meterProvider = new MeterProvider({ readers: [first, second] });
  providers.push(meterProvider);
  const health = new FakeHealth();
  const observer = createOtelObserver({
    chain: health.chain,
    targets: TARGETS,
    snapshot: health.snapshot,
    captureContent: false,
    meter: meterProvider.getMeter('bulwark'),
    ...(options.callerAttributes && { callerAttributes: { hook: () => ({ 'app.tenant': 'acme' }), limit: 10, known: [] } }),
  });
  const request = (n: number) => {
    for (let i = 0; i < n; i++) {
      const d = new Driver(observer, health, undefined, false, `req-${i}`);
      d.run(() => {
        d.attempt(0, 'initial');
        d.succeed();
        d.end('success', 'full');
      });
    }
  };
  return { first, second, observer, request };
}

const success = { 'bulwark.outcome': 'success', 'bulwark.tier': 'full' };
const initialSuccess = { 'bulwark.attempt.kind': 'initial', 'bulwark.attempt.outcome': 'success', 'gen_ai.provider.name': TARGETS[0]!.provider };

describe('request-path counters', () => {
  it('count every request for every reader, whenever each collects', async () => {
    const { first, second, request } = setup();
    request(3);
    expect(sumOf(await first.metrics(), METRIC.REQUESTS, success)).toBe(3);
    request(2);
    expect(sumOf(await second.metrics(), METRIC.REQUESTS, success)).toBe(5);
    expect(sumOf(await first.metrics(), METRIC.REQUESTS, success)).toBe(5);
    const m = await second.metrics();
    expect(sumOf(m, METRIC.ATTEMPTS, initialSuccess)).toBe(5);
    expect(sumOf(m, METRIC.COST, { 'bulwark.attempt.outcome': 'success', 'gen_ai.provider.name': TARGETS[0]!.provider })).toBeCloseTo(5 * 0.0007, 10);
  });

  it('keep one series per caller-attribute set, counted like the others', async () => {
    const { first, request } = setup({ callerAttributes: true });
    request(4);
    const m = await first.metrics();
    expect(sumOf(m, METRIC.REQUESTS, { ...success, 'app.tenant': 'acme' })).toBe(4);
  });

  it('lose nothing counted after the last collection when the observer closes', async () => {
    const { first, observer, request } = setup();
    request(2);
    expect(sumOf(await first.metrics(), METRIC.REQUESTS, success)).toBe(2);
    request(3);
    await observer.close?.();
    // A request still in flight at close counts too.
    request(1);
    expect(sumOf(await first.metrics(), METRIC.REQUESTS, success)).toBe(6);
  });
});
