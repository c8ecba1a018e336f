import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { inspect } from 'node:util';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ProviderError } from '../../src/errors/providerError.js';
import { anthropicTarget, openaiTarget } from '../../src/providers/index.js';
import type { ProviderAdapter } from '../../src/providers/adapter.js';

/**
 * A hostile server: every answer echoes the credentials the client sent, in the error message, in
 * response headers and in broken bodies. Whatever the adapters throw must not contain them.
 */
const SECRET = 'sk-test-SECRET-123';

let baseUrl = '';
const server = createServer((req, res) => {
  const creds = `${req.headers['authorization'] ?? ''} ${req.headers['x-api-key'] ?? ''}`.trim();
  const mode = req.url?.split('/')[1] ?? '';
  const echoHeaders = { 'x-request-id': `req ${creds}`, 'request-id': `req ${creds}`, 'x-echo': creds };
  const anthropic = req.url?.includes('/v1/messages') ?? false;
  const errorBody = (type: string) =>
    JSON.stringify(anthropic ? { type: 'error', error: { type, message: `bad key ${creds}` } } : { error: { message: `bad key ${creds}`, type, code: creds } });
  req.resume();
  req.on('end', () => {
    switch (mode) {
      case 'unauthorized':
        res.writeHead(401, { 'content-type': 'application/json', ...echoHeaders }).end(errorBody('authentication_error'));
        return;
      case 'ratelimited':
        res.writeHead(429, { 'content-type': 'application/json', 'retry-after': '1', ...echoHeaders }).end(errorBody('rate_limit_error'));
        return;
      case 'server':
        res.writeHead(500, { 'content-type': 'application/json', ...echoHeaders }).end(errorBody('api_error'));
        return;
      case 'text':
        res.writeHead(502, { 'content-type': 'text/plain', ...echoHeaders }).end(`upstream rejected ${creds}`);
        return;
      case 'malformed':
        res.writeHead(200, { 'content-type': 'application/json', ...echoHeaders }).end(`{"id": "${creds}", "choices": [`);
        return;
      case 'malformed-sse':
        // A stream event whose JSON breaks off: the SDK's parser fails on it (and, left alone, the
        // Anthropic SDK prints the raw event to the console).
        res.writeHead(200, { 'content-type': 'text/event-stream', ...echoHeaders });
        res.end(
          anthropic
            ? `event: message_start\ndata: {"type":"message_start","message":{"id":"${creds}","content":[`+'\n\n'
            : `data: {"id":"${creds}","choices":[`+'\n\n',
        );
        return;
      case 'stream-error':
        res.writeHead(200, { 'content-type': 'text/event-stream', ...echoHeaders });
        res.end(
          anthropic
            ? `event: error\ndata: ${errorBody('overloaded_error')}\n\n`
            : `data: ${JSON.stringify({ error: { message: `bad key ${creds}`, type: 'server_error' } })}\n\n`,
        );
        return;
      default:
        res.writeHead(404).end();
    }
  });
});

beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

function adapters(mode: string): ProviderAdapter[] {
  return [
    openaiTarget({ client: new OpenAI({ apiKey: SECRET, baseURL: `${baseUrl}/${mode}/v1`, maxRetries: 3 }), model: 'gpt-4o' }).adapter,
    anthropicTarget({ client: new Anthropic({ apiKey: SECRET, baseURL: `${baseUrl}/${mode}`, maxRetries: 3 }), model: 'claude' }).adapter,
  ];
}

async function failure(run: () => Promise<unknown>): Promise<ProviderError> {
  try {
    await run();
  } catch (err) {
    expect(err).toBeInstanceOf(ProviderError);
    return err as ProviderError;
  }
  throw new Error('expected the call to fail');
}

function everythingIn(err: ProviderError): string {
  return [
    err.message,
    err.stack,
    String(err),
    JSON.stringify(err),
    JSON.stringify({ ...err, message: err.message, stack: err.stack, cause: err.cause }),
    JSON.stringify(err.cause),
    inspect(err, { depth: null, showHidden: true }),
  ].join('\n');
}

const request = { messages: [{ role: 'user' as const, content: 'hi' }] };

describe('no credentials in errors', () => {
  it.each(['unauthorized', 'ratelimited', 'server', 'text', 'malformed'])(
    'a %s answer that echoes the key yields an error without it (chat)',
    async (mode) => {
      for (const adapter of adapters(mode)) {
        const err = await failure(() => adapter.chat(request, { signal: new AbortController().signal }));
        const dump = everythingIn(err);
        expect(dump).not.toContain(SECRET);
        expect(dump).not.toContain('SECRET');
        // Still useful: the type and status survive redaction.
        expect(err.errorType).not.toBe('cancelled');
      }
    },
  );

  it.each(['unauthorized', 'stream-error', 'malformed'])('a %s answer yields an error without the key (stream)', async (mode) => {
    for (const adapter of adapters(mode)) {
      const err = await failure(async () => {
        for await (const _ of adapter.stream(request, { signal: new AbortController().signal })) {
          // drain
        }
      });
      expect(everythingIn(err)).not.toContain('SECRET');
    }
  });

  it('a malformed stream event that echoes the key reaches no console or SDK logger (stream)', async () => {
    const printed: unknown[][] = [];
    const spies = (['error', 'warn', 'info', 'debug', 'log'] as const).map((level) =>
      vi.spyOn(console, level).mockImplementation((...args: unknown[]) => void printed.push(args)),
    );
    const logged: unknown[][] = [];
    const logger = { error: (...a: unknown[]) => void logged.push(a), warn: (...a: unknown[]) => void logged.push(a), info: (...a: unknown[]) => void logged.push(a), debug: (...a: unknown[]) => void logged.push(a) };
    try {
      const withLogger = anthropicTarget({ client: new Anthropic({ apiKey: SECRET, baseURL: `${baseUrl}/malformed-sse`, logger, logLevel: 'warn' }), model: 'claude' }).adapter;
      for (const adapter of [...adapters('malformed-sse'), withLogger]) {
        const err = await failure(async () => {
          for await (const _ of adapter.stream(request, { signal: new AbortController().signal })) {
            // drain
          }
        });
        expect(err.errorType).toBe('malformed_response');
        expect(everythingIn(err)).not.toContain('SECRET');
      }
    } finally {
      for (const spy of spies) spy.mockRestore();
    }
    expect(inspect(printed, { depth: null })).not.toContain('SECRET');
    expect(inspect(logged, { depth: null })).not.toContain('SECRET');
  });

  it("the SDK's other log lines still reach the user's logger at the user's level", async () => {
    const logged: string[] = [];
    const logger = { error: () => undefined, warn: () => undefined, info: () => undefined, debug: (message: unknown) => void logged.push(String(message)) };
    const adapter = anthropicTarget({ client: new Anthropic({ apiKey: SECRET, baseURL: `${baseUrl}/server`, logger, logLevel: 'debug' }), model: 'claude' }).adapter;
    await failure(() => adapter.chat(request, { signal: new AbortController().signal }));
    expect(logged.length).toBeGreaterThan(0);
  });

  it('a refused connection yields an error without the key', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const target = openaiTarget({ client: new OpenAI({ apiKey: SECRET, baseURL: `http://127.0.0.1:${port}/v1` }), model: 'gpt-4o' });
    const err = await failure(() => target.adapter.chat(request, { signal: new AbortController().signal }));
    expect(err.errorType).toBe('connection');
    expect(everythingIn(err)).not.toContain('SECRET');
  });
});
