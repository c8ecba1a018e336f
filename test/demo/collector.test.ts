import { execFile } from 'node:child_process';
import { createServer, type Server } from 'node:net';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { collectorProblem } from '../../demo/collector.js';

let server: Server | undefined;
afterEach(() => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())));

function listen(): Promise<number> {
  server = createServer((socket) => socket.destroy());
  return new Promise((resolve) => server!.listen(0, '127.0.0.1', () => resolve((server!.address() as { port: number }).port)));
}

describe('demo --otlp: is a collector listening?', () => {
  it('nothing listening: one plain line naming the endpoint', async () => {
    const port = await listen();
    await new Promise<void>((resolve) => server!.close(() => resolve()));
    server = undefined;
    const endpoint = `http://127.0.0.1:${port}`;
    const problem = await collectorProblem(endpoint);
    expect(problem).toContain(`no OTLP collector listening at ${endpoint}`);
    expect(problem).toContain('ECONNREFUSED');
    expect(problem).not.toContain('\n');
  });

  it('a listener at the endpoint: no complaint', async () => {
    const port = await listen();
    expect(await collectorProblem(`http://127.0.0.1:${port}`)).toBeUndefined();
  });

  it('an endpoint that is not a URL is named too', async () => {
    expect(await collectorProblem('not a url')).toBe('OpenTelemetry: the OTLP endpoint not a url is not a URL; nothing will be exported.');
  });

  it('npm run demo -- --otlp <endpoint> with nothing listening prints that line and still runs', async () => {
    const port = await listen();
    await new Promise<void>((resolve) => server!.close(() => resolve()));
    server = undefined;
    const endpoint = `http://127.0.0.1:${port}`;
    const root = new URL('../..', import.meta.url);
    const env = { ...process.env };
    delete env['OTEL_EXPORTER_OTLP_ENDPOINT'];
    const { stdout, stderr } = await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', 'demo/run.ts', '--otlp', endpoint, '--duration', '1', '--plain'],
      { cwd: root, env },
    );
    expect(stderr.split('\n').filter((l) => l.includes(`no OTLP collector listening at ${endpoint}`))).toHaveLength(1);
    expect(stdout).not.toContain('OpenTelemetry: exporting');
    expect(stdout).toContain('Bulwark demo');
  }, 120_000);
});
