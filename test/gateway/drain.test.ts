/**
 * SIGTERM on the gateway PROCESS with 50 streams open: it stops accepting connections at once,
 * every stream runs to its end (full text, finish reason), then the process exits 0. With
 * OTEL_EXPORTER_OTLP_ENDPOINT set, what it buffered is exported on the way out.
 *
 * No timing: the fault server's waits between stream events are held on a gate this test opens
 * (`options.sleep`), so the 50 streams are provably in flight when the signal arrives and cannot
 * end before the test lets them.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fault, startFaultServer, type FaultServer } from '../../src/testing/index.js';
import { eventually } from '../state/fleet.js';
import { sha256, startGatewayProcess, writeConfigFile, type GatewayProcess } from './gatewayProcess.js';

const KEY = 'bk-drain-test-0123456789abcdef';
const STREAMS = 50;
const TEXT = 'one two three four five six seven eight nine ten';

/** Resolves when a fresh TCP connection to the port is refused (the listener is closed). */
function refused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code === 'ECONNREFUSED'));
  });
}

describe('SIGTERM during 50 open streams (the gateway process)', () => {
  let dir: string;
  let server: FaultServer;
  let gateway: GatewayProcess;
  let open!: () => void;
  const gate = new Promise<void>((resolve) => (open = resolve));

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'bulwark-gateway-drain-'));
    server = await startFaultServer({
      seed: 50,
      // Every wait between stream events waits for the gate instead of a timer.
      sleep: (_ms, signal) =>
        new Promise<void>((resolve, reject) => {
          void gate.then(resolve);
          signal.addEventListener('abort', () => reject(signal.reason), { once: true });
        }),
    });
    server.script({ route: 'drain' }, { then: fault.ok({ text: TEXT, chunkDelayMs: 1 }) });
    const config = writeConfigFile(dir, 'drain.yaml', {
      chains: { long: { targets: [{ provider: 'openai', model: 'gpt-4o', apiKey: 'env:OPENAI_API_KEY', baseURL: server.baseURL('openai', 'drain') }] } },
      routes: { 'long-answers': 'long' },
      clients: [{ name: 'drainer', keyHash: sha256(KEY) }],
      server: { drainTimeoutMs: 120_000 },
    });
    gateway = await startGatewayProcess(config, { OPENAI_API_KEY: 'sk-upstream-drain' });
  });

  afterAll(async () => {
    open();
    await gateway?.stop();
    await server?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('stops accepting, lets every stream finish, then exits 0', async () => {
    const client = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: KEY, maxRetries: 0 });
    const streams = Array.from({ length: STREAMS }, async () => {
      const stream = await client.chat.completions.create({ model: 'long-answers', messages: [{ role: 'user', content: 'Tell me a long story' }], stream: true });
      let text = '';
      let finish: string | null = null;
      for await (const chunk of stream) {
        text += chunk.choices[0]?.delta.content ?? '';
        finish = chunk.choices[0]?.finish_reason ?? finish;
      }
      return { text, finish };
    });

    // All 50 upstream streams are open and held at the gate.
    await eventually('50 streams in flight upstream', async () => server.requests.filter((r) => r.route === 'drain' && r.status === 200 && !r.finished).length === STREAMS, 30_000);
    const port = Number(new URL(gateway.url).port);

    gateway.signal('SIGTERM');
    await eventually('the gateway stops accepting connections', () => refused(port), 10_000);
    expect(gateway.stderr()).toMatch(/SIGTERM, draining in-flight requests/);
    // Still draining: no stream can have ended (the gate is shut), so the process is still there.
    expect(server.requests.filter((r) => r.route === 'drain' && r.finished)).toHaveLength(0);
    expect(await Promise.race([gateway.exit, Promise.resolve('running')])).toBe('running');

    open();
    const results = await Promise.all(streams);
    expect(results).toHaveLength(STREAMS);
    for (const r of results) expect(r).toEqual({ text: TEXT, finish: 'stop' });
    expect(await gateway.exit).toBe(0);
    expect(gateway.stderr()).toMatch(/stopped\n$/);
    const upstream = server.requests.filter((r) => r.route === 'drain');
    expect(upstream).toHaveLength(STREAMS);
    expect(upstream.every((r) => r.finished && !r.clientClosed)).toBe(true);
    const logged = gateway.accessLog().filter((l) => l.route === '/v1/chat/completions');
    expect(logged).toHaveLength(STREAMS);
    expect(logged.every((l) => l.status === 200 && l.client === 'drainer' && l.clientClosed !== true)).toBe(true);
  });
});

describe('SIGTERM flushes telemetry (OTEL_EXPORTER_OTLP_ENDPOINT set)', () => {
  let dir: string;
  let server: FaultServer;
  let collector: Server;
  const received: Array<{ path: string; body: Buffer }> = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'bulwark-gateway-otel-'));
    server = await startFaultServer({ seed: 51 });
    // An OTLP/HTTP endpoint that records what it is sent.
    collector = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        received.push({ path: req.url ?? '', body: Buffer.concat(chunks) });
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((r) => collector.listen(0, '127.0.0.1', r));
  });

  afterAll(async () => {
    await server?.close();
    collector?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('exports the spans and metrics of the requests it served when it stops, not before', async () => {
    const config = writeConfigFile(dir, 'otel.yaml', {
      chains: { otelchain: { targets: [{ provider: 'openai', model: 'gpt-4o', apiKey: 'env:OPENAI_API_KEY', baseURL: server.baseURL('openai', 'otel') }] } },
      routes: { 'otel-agent': 'otelchain' },
      clients: [{ name: 'otel-client', keyHash: sha256(KEY) }],
    });
    const gateway = await startGatewayProcess(config, {
      OPENAI_API_KEY: 'sk-upstream-otel',
      OTEL_SDK_DISABLED: 'false',
      OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${(collector.address() as AddressInfo).port}`,
      // Far longer than the test: only the shutdown flush can export the metrics; spans batch for 5 s by default.
      OTEL_METRIC_EXPORT_INTERVAL: '600000',
      OTEL_BSP_SCHEDULE_DELAY: '600000',
    });
    const client = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: KEY, maxRetries: 0 });
    const answer = await client.chat.completions.create({ model: 'otel-agent', messages: [{ role: 'user', content: 'hi' }] });
    expect(answer.choices[0]!.message.content).toBe('Mock reply from otel (gpt-4o).');
    expect(received).toHaveLength(0);

    gateway.signal('SIGTERM');
    expect(await gateway.exit).toBe(0);
    const traces = received.filter((r) => r.path === '/v1/traces');
    const metrics = received.filter((r) => r.path === '/v1/metrics');
    expect(traces.length).toBeGreaterThan(0);
    expect(metrics.length).toBeGreaterThan(0);
    const spans = traces.map((t) => t.body.toString('utf8')).join('\n');
    expect(spans).toContain('otelchain');
    expect(spans).toContain('bulwark-gateway');
    expect(spans).not.toContain('sk-upstream-otel');
    expect(spans).not.toContain(KEY);
    expect(metrics.some((m) => m.body.includes('bulwark-gateway'))).toBe(true);
  });
});
