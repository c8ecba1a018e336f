/**
 * Structured output through the official clients: the request's `responseFormat` reaches OpenAI as
 * `response_format: json_schema` and Anthropic as its native `output_config.format`; an answer that
 * does not parse or validate is `invalid_output` — retried on the same target, then the next target —
 * and never charged to the breaker; in a stream it fails at the end, after the text went out.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { BulwarkError, StreamInterruptedError } from '../../src/errors/bulwarkError.js';
import type { ChatRequest, StreamEvent } from '../../src/request/types.js';
import { fault, startFaultServer, type FaultServer } from '../../src/testing/index.js';
import { sentBodies, threeTargetChain } from './setup.js';

let server: FaultServer;
beforeAll(async () => {
  server = await startFaultServer({ seed: 3 });
});
afterAll(() => server.close());
beforeEach(() => {
  server.reset();
  vi.spyOn(Math, 'random').mockReturnValue(0.5);
});

const schema = {
  type: 'object',
  properties: { severity: { type: 'string', enum: ['low', 'high'] }, summary: { type: 'string' } },
  required: ['severity', 'summary'],
  additionalProperties: false,
};
const triage: ChatRequest = {
  messages: [{ role: 'user', content: 'Triage ticket 4411 as JSON.' }],
  responseFormat: { type: 'json', schema, name: 'triage', strict: true },
};
const VALID = '{"severity":"high","summary":"Checkout is down"}';
const NOT_JSON = 'Sure! The severity is high.';
const WRONG_SHAPE = '{"severity":"urgent","summary":"Checkout is down"}';

const bodies = (route: string) => sentBodies(server, route);

describe('structured output (chat)', () => {
  it('sends each provider its own wire shape and returns the parsed object', async () => {
    const { llm } = threeTargetChain(server);
    server.script({ route: 'primary' }, { then: fault.ok({ text: VALID }) });
    const res = await llm.chat(triage);
    expect(res.object).toEqual({ severity: 'high', summary: 'Checkout is down' });
    expect(bodies('primary')[0]!['response_format']).toEqual({ type: 'json_schema', json_schema: { name: 'triage', schema, strict: true } });

    const { llm: anthropicFirst } = threeTargetChain(server, { order: ['backup', 'primary', 'local'] });
    server.script({ route: 'backup' }, { then: fault.ok({ text: VALID }) });
    const res2 = await anthropicFirst.chat(triage);
    expect(res2.object).toEqual({ severity: 'high', summary: 'Checkout is down' });
    const sent = bodies('backup')[0]!;
    expect(sent['output_config']).toEqual({ format: { type: 'json_schema', schema } });
    expect(sent).not.toHaveProperty('tools');
  });

  it('an answer that fails validation on the primary is retried once there, then the fallback answers', async () => {
    const { llm } = threeTargetChain(server);
    server.script({ route: 'primary' }, { then: fault.ok({ text: NOT_JSON, usage: { inputTokens: 1_000, outputTokens: 100 } }) });
    server.script({ route: 'backup' }, { then: fault.ok({ text: VALID }) });
    const res = await llm.chat(triage);
    expect(res.object).toEqual({ severity: 'high', summary: 'Checkout is down' });
    expect(res.target).toMatchObject({ provider: 'anthropic', index: 1 });
    expect(res.attempts.map((a) => [a.targetIndex, a.kind, a.errorType])).toEqual([
      [0, 'initial', 'invalid_output'],
      [0, 'retry', 'invalid_output'],
      [1, 'fallback', undefined],
    ]);
    expect(server.hits({ route: 'primary' })).toBe(2);
    // The invalid answers' tokens were spent: gpt-4o at $2.50 / $10 per MTok, twice.
    expect(res.attempts[0]!.costUsd).toBeCloseTo((1_000 * 2.5 + 100 * 10) / 1e6, 12);
    expect(res.costUsd).toBeGreaterThan(2 * res.attempts[0]!.costUsd!);
    // The target answered every time: not a breaker failure.
    expect(llm.health().targets[0]!).toMatchObject({ state: 'closed', consecutiveFailures: 0 });
  });

  it('a parsed answer that does not match the schema is invalid_output too; responseFormat.retries: 0 falls back at once', async () => {
    const { llm } = threeTargetChain(server);
    server.script({ route: 'primary' }, { then: fault.ok({ text: WRONG_SHAPE }) });
    server.script({ route: 'backup' }, { then: fault.ok({ text: VALID }) });
    const res = await llm.chat({ ...triage, responseFormat: { ...triage.responseFormat!, retries: 0 } });
    expect(res.attempts.map((a) => a.errorType)).toEqual(['invalid_output', undefined]);
    expect(server.hits({ route: 'primary' })).toBe(1);
    expect(res.object).toEqual({ severity: 'high', summary: 'Checkout is down' });
  });

  it('a classify hook can make invalid_output fail the request instead of falling back', async () => {
    const { llm } = threeTargetChain(server, { classify: (e) => (e.errorType === 'invalid_output' ? { disposition: 'fail' } : undefined) });
    server.script({ route: 'primary' }, { then: fault.ok({ text: NOT_JSON }) });
    const err = await llm.chat(triage).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BulwarkError);
    expect((err as BulwarkError).errorType).toBe('invalid_output');
    expect(server.hits({ route: 'backup' })).toBe(0);
  });

  it('a tool-call answer is not checked against the schema', async () => {
    const { llm } = threeTargetChain(server);
    server.script({ route: 'primary' }, { then: fault.ok({ toolCalls: [{ name: 'lookup', arguments: { id: 4411 } }] }) });
    const res = await llm.chat({ ...triage, tools: [{ name: 'lookup', parameters: { type: 'object' } }] });
    expect(res.finishReason).toBe('tool_calls');
    expect(res).not.toHaveProperty('object');
  });

  it('a schema that is not an object, or that no validator can compile, is a bad_request with no upstream call', async () => {
    const { llm } = threeTargetChain(server);
    for (const [responseFormat, field] of [
      [{ type: 'json', schema: 'object' }, 'responseFormat.schema'],
      [{ type: 'json', schema: { type: 'object', properties: { a: { type: 'strin' } } } }, 'responseFormat.schema'],
      [{ type: 'json_schema', schema }, 'responseFormat.type'],
      [{ type: 'json', schema, name: 'has spaces' }, 'responseFormat.name'],
      [{ type: 'json', schema, retries: 9 }, 'responseFormat.retries'],
      [{ type: 'json', schema, schemaName: 'x' }, 'responseFormat.schemaName'],
    ] as const) {
      const err = await llm.chat({ ...triage, responseFormat: responseFormat as never }).catch((e: unknown) => e);
      expect(err, field).toBeInstanceOf(BulwarkError);
      expect((err as BulwarkError).errorType).toBe('bad_request');
      expect((err as BulwarkError).message).toContain(field);
    }
    expect(server.hits({})).toBe(0);
  });

  it('the fault server refuses a malformed response_format as OpenAI would (a wrong wire shape cannot pass unnoticed)', async () => {
    const OpenAI = (await import('openai')).default;
    const client = new OpenAI({ apiKey: 'sk-test', baseURL: server.baseURL('openai', 'primary'), maxRetries: 0 });
    const err = await client.chat.completions
      .create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'x' }], response_format: { type: 'json_schema', json_schema: { name: 'has spaces', schema } } })
      .catch((e: unknown) => e);
    expect((err as { status?: number }).status).toBe(400);
  });
});

describe('structured output (stream)', () => {
  async function drain(iterable: AsyncIterable<StreamEvent>): Promise<StreamEvent[]> {
    const events: StreamEvent[] = [];
    for await (const e of iterable) events.push(e);
    return events;
  }

  it('streams the JSON as text deltas; result.object settles at the end', async () => {
    const { llm } = threeTargetChain(server);
    server.script({ route: 'primary' }, { then: fault.ok({ text: VALID }) });
    const s = llm.stream(triage);
    const events = await drain(s);
    expect(events.filter((e) => e.type === 'text').map((e) => (e as { delta: string }).delta).join('')).toBe(VALID);
    expect((await s.result).object).toEqual({ severity: 'high', summary: 'Checkout is down' });
  });

  it("an invalid final object after its text went out: midStream 'error' throws StreamInterruptedError(invalid_output) with what was received", async () => {
    const { llm } = threeTargetChain(server);
    server.script({ route: 'primary' }, { then: fault.ok({ text: NOT_JSON }) });
    const s = llm.stream(triage);
    const err = await drain(s).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StreamInterruptedError);
    expect((err as StreamInterruptedError).errorType).toBe('invalid_output');
    expect((err as StreamInterruptedError).received.text).toBe(NOT_JSON);
    await expect(s.result).rejects.toBeInstanceOf(StreamInterruptedError);
    expect(llm.health().targets[0]!.consecutiveFailures).toBe(0);
  });

  it("with midStream 'restart': a reset event, then the fallback streams a valid object", async () => {
    const { llm } = threeTargetChain(server, { midStream: 'restart' });
    server.script({ route: 'primary' }, { then: fault.ok({ text: WRONG_SHAPE }) });
    server.script({ route: 'backup' }, { then: fault.ok({ text: VALID }) });
    const s = llm.stream(triage);
    const events = await drain(s);
    const reset = events.findIndex((e) => e.type === 'reset');
    expect(events[reset]).toEqual({ type: 'reset', reason: 'invalid_output' });
    const after = events.slice(reset + 1).filter((e) => e.type === 'text').map((e) => (e as { delta: string }).delta).join('');
    expect(after).toBe(VALID);
    const res = await s.result;
    expect(res.object).toEqual({ severity: 'high', summary: 'Checkout is down' });
    expect(res.target.provider).toBe('anthropic');
  });
});
