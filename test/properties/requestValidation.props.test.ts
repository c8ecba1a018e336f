/**
 * Request validation, property-based, through the official clients against the fault server:
 * every generated valid request is accepted (and answered), every generated one-field corruption of
 * one is refused as `bad_request` naming that field — by chat() and by stream() — with zero upstream
 * calls.
 */
import OpenAI from 'openai';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createResilientLLM, type ResilientLLM } from '../../src/createResilientLLM.js';
import { BulwarkError } from '../../src/errors/bulwarkError.js';
import { openaiTarget } from '../../src/providers/index.js';
import { validateRequest } from '../../src/validation/validateRequest.js';
import { startFaultServer, type FaultServer } from '../../src/testing/index.js';
import { copyRequest, corruption, validRequest } from './arbitraries.js';
import { propertyParams } from './settings.js';

let server: FaultServer;
let llm: ResilientLLM;
beforeAll(async () => {
  server = await startFaultServer({ seed: 5 });
  llm = createResilientLLM({
    name: 'props',
    targets: [openaiTarget({ client: new OpenAI({ apiKey: 'sk-props-0123456789', baseURL: server.baseURL('openai', 'props') }), model: 'gpt-4o' })],
    telemetry: false,
    cache: false,
  });
});
afterAll(async () => {
  await llm.close();
  await server.close();
});

async function refusal(run: () => Promise<unknown>): Promise<BulwarkError> {
  const outcome = await run().then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(outcome instanceof BulwarkError)) throw new Error(`expected a BulwarkError, got ${outcome === undefined ? 'an answer' : String(outcome)}`);
  return outcome;
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

describe('request validation (property-based)', () => {
  it('accepts every valid request', () => {
    fc.assert(
      fc.property(validRequest, (request) => {
        validateRequest(request);
      }),
      propertyParams(),
    );
  });

  it('a valid request reaches the provider and is answered, unchanged in what it asks', async () => {
    await fc.assert(
      fc.asyncProperty(validRequest, async (request) => {
        const before = server.hits();
        // A deadline of a few ms is valid but cannot be met over HTTP: this property is about acceptance.
        const result = await llm.chat({ ...request, signal: new AbortController().signal, ...(request.totalTimeoutMs !== undefined && { totalTimeoutMs: 60_000 }) });
        expect(result.tier).toBe('full');
        expect(server.hits() - before).toBe(1);
        const sent = server.requests.at(-1)!.body as { messages: unknown[]; tools?: Array<{ function: { parameters: unknown } }> };
        // Tool schemas arrive exactly as given (nothing dropped or changed by serialization).
        expect(sent.tools?.map((t) => t.function.parameters) ?? []).toEqual((request.tools ?? []).map((t) => JSON.parse(JSON.stringify(t.parameters))));
      }),
      propertyParams(0.2),
    );
  });

  it('refuses every one-field corruption as bad_request naming the field, with zero upstream calls (chat and stream)', async () => {
    const before = server.hits();
    await fc.assert(
      fc.asyncProperty(validRequest, corruption, async (valid, c) => {
        const request = copyRequest(valid);
        c.apply(request);
        const field = new RegExp(`^Invalid request: ${escape(c.path(request))}(?=[ .\\[])`);
        const viaChat = await refusal(() => llm.chat(request));
        expect(viaChat.errorType).toBe('bad_request');
        expect(viaChat.message).toMatch(field);
        expect(viaChat.attempts).toEqual([]);
        const viaStream = await refusal(async () => {
          for await (const _ of llm.stream(request)) void _;
        });
        expect(viaStream.errorType).toBe('bad_request');
        expect(viaStream.message).toBe(viaChat.message);
        expect(server.hits()).toBe(before);
      }),
      propertyParams(),
    );
    expect(server.hits()).toBe(before);
  });
});
