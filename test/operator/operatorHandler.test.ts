/**
 * The operator HTTP handler over real HTTP, against stub chains (no Redis): what reaches a
 * chain, what an unauthenticated or malformed request gets, and that nothing it is sent can
 * throw out of the handler (an exception in a 'request' listener takes the process down).
 */
import { createServer, type Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BreakerOverride } from '../../src/events/breakerTransition.js';
import type { ForcedTier } from '../../src/request/tiers.js';
import { createOperatorHandler, type OperatedChain } from '../../src/operator/index.js';

const TOKEN = 'op-token-0123456789abcdef';

function stubChain(name: string) {
  const calls: Array<{ breaker?: string | number; override?: BreakerOverride; tier?: ForcedTier }> = [];
  const chain: OperatedChain = {
    name,
    health: () => ({ chain: name, forcedTier: 'auto', targets: [] }),
    forceBreaker: async (breaker, override) => {
      calls.push({ breaker, override });
      return { shared: true };
    },
    forceTier: async (tier) => {
      calls.push({ tier });
      return { shared: true };
    },
  };
  return { chain, calls };
}

/** Sends raw bytes and resolves with the status line of the reply ('' when the connection closed without one). */
function raw(port: number, request: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(request));
    let data = '';
    socket.setTimeout(5_000, () => {
      socket.destroy();
      reject(new Error(`no reply within 5 s; got ${JSON.stringify(data)}`));
    });
    socket.on('data', (d: Buffer) => {
      data += d.toString('latin1');
      if (data.includes('\r\n')) {
        socket.destroy();
        resolve(data.slice(0, data.indexOf('\r\n')));
      }
    });
    socket.on('close', () => resolve(data.split('\r\n')[0] ?? ''));
    socket.on('error', () => resolve(data.split('\r\n')[0] ?? ''));
  });
}

describe('operator handler', () => {
  let server: Server;
  let port: number;
  const thrown: unknown[] = [];
  const { chain, calls } = stubChain('ops');

  beforeAll(async () => {
    const handler = createOperatorHandler({ llms: chain, token: TOKEN });
    server = createServer((req, res) => {
      try {
        handler(req, res);
      } catch (error) {
        // Without this catch, the exception would be uncaught: the process would exit.
        thrown.push(error);
        res.destroy();
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  it('a request target that is not a valid URL gets a 400, and never throws out of the handler', async () => {
    for (const target of ['//[', '//a:b@[::1', 'http://[']) {
      const status = await raw(port, `GET ${target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
      expect(status, target).toBe('HTTP/1.1 400 Bad Request');
    }
    expect(thrown).toEqual([]);
    expect(calls).toEqual([]);
  });

  const post = (path: string, body: string, headers: Record<string, string> = {}) =>
    fetch(`http://127.0.0.1:${port}/bulwark${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}`, ...headers },
      body,
    });

  it('validates method, content type, size and shape before anything reaches a chain', async () => {
    const wrongMethod = await fetch(`http://127.0.0.1:${port}/bulwark/breaker`);
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.get('allow')).toBe('POST');
    const healthPost = await fetch(`http://127.0.0.1:${port}/bulwark/health`, { method: 'POST' });
    expect(healthPost.status).toBe(405);
    expect(healthPost.headers.get('allow')).toBe('GET, HEAD');
    expect((await post('/tier', '{"tier":"cached"}', { 'content-type': 'text/plain' })).status).toBe(415);
    expect((await post('/tier', JSON.stringify({ tier: 'cached', pad: 'x'.repeat(5000) }))).status).toBe(413);
    expect((await post('/tier', '{"tier":')).status).toBe(400);
    expect((await post('/tier', '["cached"]')).status).toBe(400);
    expect((await post('/breaker', '{"breaker":{"k":1},"override":"open"}')).status).toBe(400);
    expect(calls).toEqual([]);
    const ok = await post('/tier', '{"tier":"cached"}');
    expect(ok.status).toBe(200);
    expect(calls).toEqual([{ tier: 'cached' }]);
    calls.splice(0);
  });

  it('an unauthenticated POST gets 401 and its connection is closed, not drained of the body it announced', async () => {
    const socket = connect(port, '127.0.0.1');
    const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
    let reply = '';
    socket.on('data', (d: Buffer) => (reply += d.toString('latin1')));
    socket.on('error', () => undefined);
    // Announces 100 MB, sends 1 kB: a server draining the body would hold the connection open.
    socket.write(`POST /bulwark/tier HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100000000\r\n\r\n${'x'.repeat(1024)}`);
    const timeout = setTimeout(() => socket.destroy(new Error('still open')), 3_000);
    await closed;
    clearTimeout(timeout);
    expect(reply.split('\r\n')[0]).toBe('HTTP/1.1 401 Unauthorized');
    expect(socket.errored?.message).toBeUndefined();
    expect(calls).toEqual([]);
  });
});
