/**
 * Without explicit tracer/meter the observer uses the global providers. The metrics API has no
 * proxy provider, so an SDK registered after the client was created must still receive
 * Bulwark's metrics: the observer re-binds at the next request.
 */
import { metrics, trace } from '@opentelemetry/api';
import { afterEach, expect, it } from 'vitest';
import { BULWARK_VERSION, METRIC } from '../../src/telemetry/names.js';
import { createOtelObserver } from '../../src/telemetry/otelObserver.js';
import { createSdk, Driver, FakeHealth, points, sumOf, TARGETS } from './harness.js';

afterEach(() => {
  metrics.disable();
  trace.disable();
});

it('an SDK registered after the observer was created receives spans and metrics, pre-created series included', async () => {
  const health = new FakeHealth('late-sdk');
  const observer = createOtelObserver({ chain: 'late-sdk', targets: TARGETS, snapshot: health.snapshot, captureContent: false });

  const sdk = createSdk();
  metrics.setGlobalMeterProvider(sdk.meterProvider);
  trace.setGlobalTracerProvider(sdk.tracerProvider);

  const d = new Driver(observer, health);
  d.attempt(0, 'initial');
  d.succeed();
  d.end('success', 'full');

  const m = await sdk.collect();
  expect(sumOf(m, METRIC.REQUESTS, { 'bulwark.chain': 'late-sdk', 'bulwark.outcome': 'success' })).toBe(1);
  expect(points(m, METRIC.REQUESTS)).toHaveLength(6);
  expect(points(m, METRIC.CIRCUIT_STATE)).toHaveLength(9);
  expect(sdk.spans().map((s) => s.name).sort()).toEqual(['bulwark chat late-sdk', 'chat gpt-4o']);
  expect(sdk.spans()[0]!.instrumentationScope).toMatchObject({ name: 'bulwark', version: BULWARK_VERSION });
  await observer.close?.();
  await sdk.shutdown();
});
