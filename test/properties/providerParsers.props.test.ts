/**
 * The provider-response parsers, property-based: every generated valid answer (OpenAI chat completion,
 * Anthropic message, and their stream chunks) is read exactly; every generated malformed one — random
 * JSON, and valid answers with a part removed or replaced — ends in a well-formed answer or a typed
 * ProviderError, never in a TypeError or a NaN. Then the same over HTTP: a generated broken body from
 * the fault server ends in the fallback's answer through the official clients.
 */
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createResilientLLM, type ResilientLLM } from '../../src/createResilientLLM.js';
import { ProviderError } from '../../src/errors/providerError.js';
import { AnthropicStreamMapper, fromAnthropicMessage } from '../../src/providers/anthropicConvert.js';
import { anthropicTarget, openaiTarget } from '../../src/providers/index.js';
import { OpenAIStreamMapper, fromOpenAICompletion } from '../../src/providers/openaiConvert.js';
import type { ProviderResponse, StreamEvent } from '../../src/request/types.js';
import { fault, startFaultServer, type FaultServer } from '../../src/testing/index.js';
import { createFakeClock } from '../support/fakeClock.js';
import { propertyParams } from './settings.js';

const ctx = { provider: 'p', model: 'configured' };
const FINISH = ['stop', 'length', 'tool_calls', 'content_filter', 'error', 'other'];
/** What a parser may throw for a bad answer: each is a provider failure with its own disposition. */
const TYPED = ['malformed_response', 'content_filtered', 'connection'];

const word = fc.stringMatching(/^[a-zA-Z][a-zA-Z0-9_]{0,9}$/);
const tokens = fc.nat({ max: 1_000_000 });
const argsObject = fc.dictionary(word, fc.jsonValue({ maxDepth: 2 }), { maxKeys: 3 });

/** Either a well-formed neutral answer, or a typed ProviderError: the only two ways a parser may end. */
function expectWellFormedOrTyped(parse: () => ProviderResponse): void {
  let response: ProviderResponse;
  try {
    response = parse();
  } catch (error) {
    expect(error).toBeInstanceOf(ProviderError);
    expect(TYPED).toContain((error as ProviderError).errorType);
    return;
  }
  expect(typeof response.text).toBe('string');
  expect(FINISH).toContain(response.finishReason);
  expect(typeof response.model).toBe('string');
  for (const call of response.toolCalls) {
    expect(typeof call.id).toBe('string');
    expect(typeof call.name).toBe('string');
    expect(typeof call.arguments).toBe('string');
  }
  if (response.usage) expectUsage(response.usage);
}

/** Token counts are what costs are computed from: whole, finite, never negative (else cost caps break). */
function expectUsage(usage: NonNullable<ProviderResponse['usage']>): void {
  for (const n of [usage.inputTokens, usage.outputTokens, usage.cacheReadTokens ?? 0, usage.cacheWriteTokens ?? 0, usage.reasoningTokens ?? 0]) {
    expect(Number.isSafeInteger(n) && n >= 0, `token count ${n}`).toBe(true);
  }
}

function expectStreamWellFormedOrTyped(mapper: { push(c: unknown): StreamEvent[]; end(): StreamEvent[] }, chunks: unknown[]): void {
  const events: StreamEvent[] = [];
  try {
    for (const chunk of chunks) events.push(...mapper.push(chunk));
    events.push(...mapper.end());
  } catch (error) {
    expect(error).toBeInstanceOf(ProviderError);
    expect(TYPED).toContain((error as ProviderError).errorType);
    return;
  }
  for (const e of events) {
    expect(['text', 'tool_call', 'usage', 'finish']).toContain(e.type);
    if (e.type === 'usage') expectUsage(e.usage);
    if (e.type === 'tool_call') expect(Number.isSafeInteger(e.index) && e.index >= 0).toBe(true);
  }
  expect(events.at(-1)?.type).toBe('finish');
}

/** Replaces or removes the value at a random path of a JSON value. */
const mutation = fc.tuple(fc.array(fc.nat(), { minLength: 1, maxLength: 5 }), fc.option(fc.jsonValue({ maxDepth: 2 }), { nil: undefined }));
function mutate(value: unknown, [path, replacement]: [number[], unknown]): unknown {
  const root = structuredClone(value);
  let node: unknown = root;
  for (let i = 0; i < path.length; i++) {
    if (node === null || typeof node !== 'object') break;
    const keys = Object.keys(node);
    if (keys.length === 0) break;
    const key = keys[path[i]! % keys.length]!;
    const last = i === path.length - 1 || (node as Record<string, unknown>)[key] === null || typeof (node as Record<string, unknown>)[key] !== 'object';
    if (last) {
      if (replacement === undefined) delete (node as Record<string, unknown>)[key];
      else (node as Record<string, unknown>)[key] = replacement;
      break;
    }
    node = (node as Record<string, unknown>)[key];
  }
  return root;
}

// ---------------------------------------------------------------------------------------------
// OpenAI

const openaiToolCall = fc.record({ id: word, name: word, args: argsObject });
const openaiCompletion = fc
  .record({
    id: word,
    model: word,
    content: fc.option(fc.string({ maxLength: 30 }), { nil: null }),
    calls: fc.array(openaiToolCall, { maxLength: 3 }),
    finish: fc.constantFrom('stop', 'length', 'tool_calls'),
    usage: fc.record({ prompt_tokens: tokens, completion_tokens: tokens }),
  })
  .map(({ id, model, content, calls, finish, usage }) => ({
    expected: {
      text: content ?? '',
      toolCalls: calls.map((c) => ({ id: c.id, name: c.name, arguments: JSON.stringify(c.args) })),
      finishReason: finish === 'stop' && calls.length > 0 ? 'tool_calls' : finish,
      usage: { inputTokens: usage.prompt_tokens, outputTokens: usage.completion_tokens },
      model,
      responseId: id,
    },
    body: {
      id,
      object: 'chat.completion',
      created: 1,
      model,
      choices: [
        {
          index: 0,
          message: {
            role: 'assistant',
            content,
            refusal: null,
            ...(calls.length > 0 && { tool_calls: calls.map((c) => ({ id: c.id, type: 'function', function: { name: c.name, arguments: JSON.stringify(c.args) } })) }),
          },
          finish_reason: finish,
        },
      ],
      usage,
    },
  }));

/** The same answer as stream chunks (include_usage on). */
function openaiChunks(body: ReturnType<typeof JSON.parse>): unknown[] {
  const message = body.choices[0].message;
  const base = { id: body.id, object: 'chat.completion.chunk', model: body.model };
  const chunk = (delta: unknown, finish: string | null = null) => ({ ...base, choices: [{ index: 0, delta, finish_reason: finish }] });
  return [
    chunk({ role: 'assistant', content: '' }),
    ...(message.content ? [chunk({ content: message.content })] : []),
    ...(message.tool_calls ?? []).map((c: { id: string; function: { name: string; arguments: string } }, index: number) =>
      chunk({ tool_calls: [{ index, id: c.id, type: 'function', function: { name: c.function.name, arguments: c.function.arguments } }] }),
    ),
    chunk({}, body.choices[0].finish_reason),
    { ...base, choices: [], usage: body.usage },
  ];
}

// ---------------------------------------------------------------------------------------------
// Anthropic

const anthropicBlock = fc.oneof(
  fc.record({ type: fc.constant('text' as const), text: fc.string({ maxLength: 20 }) }),
  fc.record({ type: fc.constant('tool_use' as const), id: word, name: word, input: argsObject }),
);
const anthropicMessage = fc
  .record({
    id: word,
    model: word,
    content: fc.array(anthropicBlock, { maxLength: 4 }),
    stop: fc.constantFrom('end_turn', 'max_tokens', 'tool_use', 'stop_sequence'),
    usage: fc.record({ input_tokens: tokens, output_tokens: tokens }),
  })
  .map(({ id, model, content, stop, usage }) => ({
    expected: {
      text: content.map((b) => (b.type === 'text' ? b.text : '')).join(''),
      toolCalls: content.flatMap((b) => (b.type === 'tool_use' ? [{ id: b.id, name: b.name, arguments: JSON.stringify(b.input) }] : [])),
      finishReason: ({ end_turn: 'stop', stop_sequence: 'stop', max_tokens: 'length', tool_use: 'tool_calls' } as const)[stop],
      usage: { inputTokens: usage.input_tokens, outputTokens: usage.output_tokens },
      model,
      responseId: id,
    },
    body: { id, type: 'message', role: 'assistant', model, content, stop_reason: stop, stop_sequence: null, usage },
  }));

/** The same message as raw stream events. */
function anthropicEvents(body: ReturnType<typeof JSON.parse>): unknown[] {
  const blocks = body.content as Array<{ type: string; text?: string; id?: string; name?: string; input?: unknown }>;
  return [
    { type: 'message_start', message: { ...body, content: [], stop_reason: null, usage: { input_tokens: body.usage.input_tokens, output_tokens: 0 } } },
    ...blocks.flatMap((b, index): unknown[] =>
      b.type === 'text'
        ? [
            { type: 'content_block_start', index, content_block: { type: 'text', text: '' } },
            { type: 'content_block_delta', index, delta: { type: 'text_delta', text: b.text } },
            { type: 'content_block_stop', index },
          ]
        : [
            { type: 'content_block_start', index, content_block: { type: 'tool_use', id: b.id, name: b.name, input: {} } },
            { type: 'content_block_delta', index, delta: { type: 'input_json_delta', partial_json: JSON.stringify(b.input) } },
            { type: 'content_block_stop', index },
          ],
    ),
    { type: 'message_delta', delta: { stop_reason: body.stop_reason, stop_sequence: null }, usage: { output_tokens: body.usage.output_tokens } },
    { type: 'message_stop' },
  ];
}

/** The four properties every provider's parsers must hold. */
function parserProperties<Body>(spec: {
  name: string;
  valid: fc.Arbitrary<{ body: Body; expected: ProviderResponse }>;
  parse: (body: unknown) => ProviderResponse;
  toStream: (body: Body) => unknown[];
  mapper: () => { push(chunk: unknown): StreamEvent[]; end(): StreamEvent[] };
}): void {
  describe(`${spec.name} parsers (property-based)`, () => {
    it('read every valid answer exactly', () => {
      fc.assert(
        fc.property(spec.valid, ({ body, expected }) => {
          expect(spec.parse(body)).toEqual(expected);
        }),
        propertyParams(),
      );
    });

    it('read every valid stream exactly', () => {
      fc.assert(
        fc.property(spec.valid, ({ body, expected }) => {
          const mapper = spec.mapper();
          const events = [...spec.toStream(body).flatMap((c) => mapper.push(c)), ...mapper.end()];
          expect(events.filter((e) => e.type === 'text').map((e) => (e as { delta: string }).delta).join('')).toBe(expected.text);
          expect(events.at(-1)).toEqual({ type: 'finish', finishReason: expected.finishReason, model: expected.model, responseId: expected.responseId });
          expect(events.find((e) => e.type === 'usage')).toEqual({ type: 'usage', usage: expected.usage });
        }),
        propertyParams(),
      );
    });

    it('end any malformed answer in a well-formed answer or a typed error', () => {
      fc.assert(
        fc.property(fc.oneof(fc.jsonValue(), fc.tuple(spec.valid, mutation).map(([v, m]) => mutate(v.body, m))), (body) => {
          expectWellFormedOrTyped(() => spec.parse(body));
        }),
        propertyParams(),
      );
    });

    it('end any malformed stream in well-formed events or a typed error', () => {
      fc.assert(
        fc.property(
          fc.oneof(
            fc.array(fc.jsonValue({ maxDepth: 3 }), { maxLength: 6 }),
            fc.tuple(spec.valid, fc.nat(), mutation).map(([v, k, m]) => {
              const chunks = spec.toStream(v.body);
              chunks[k % chunks.length] = mutate(chunks[k % chunks.length], m);
              return chunks;
            }),
          ),
          (chunks) => expectStreamWellFormedOrTyped(spec.mapper(), chunks),
        ),
        propertyParams(),
      );
    });
  });
}

parserProperties({ name: 'OpenAI', valid: openaiCompletion, parse: (b) => fromOpenAICompletion(b, ctx), toStream: openaiChunks, mapper: () => new OpenAIStreamMapper(ctx) });
parserProperties({ name: 'Anthropic', valid: anthropicMessage, parse: (b) => fromAnthropicMessage(b, ctx), toStream: anthropicEvents, mapper: () => new AnthropicStreamMapper(ctx) });

// ---------------------------------------------------------------------------------------------
// Over HTTP, through the official clients

describe('generated broken answers over HTTP (property-based)', () => {
  let server: FaultServer;
  let llm: ResilientLLM;
  beforeAll(async () => {
    server = await startFaultServer({ seed: 7 });
    llm = createResilientLLM({
      name: 'parser-props',
      targets: [
        openaiTarget({ client: new OpenAI({ apiKey: 'sk-props-0123456789', baseURL: server.baseURL('openai', 'broken-openai') }), model: 'gpt-4o' }),
        anthropicTarget({ client: new Anthropic({ apiKey: 'sk-ant-props-0123456789', baseURL: server.baseURL('anthropic', 'broken-anthropic'), logLevel: 'off' }), model: 'claude-haiku-4-5' }),
        openaiTarget({ client: new OpenAI({ apiKey: 'sk-props-0123456789', baseURL: server.baseURL('openai', 'healthy') }), model: 'gpt-4o-mini' }),
      ],
      telemetry: false,
      cache: false,
      clock: createFakeClock(Date.now()),
      // Every broken answer counts for a breaker: open none during the run, so each run sees the same chain.
      breaker: { consecutiveFailures: 1_000_000, minCalls: 1_000_000 },
      retry: { budget: false },
    });
  });
  afterAll(async () => {
    await llm.close();
    await server.close();
  });

  it('a body that is not the API\'s answer ends in the healthy fallback\'s answer', async () => {
    const brokenBody = fc.oneof(
      fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)),
      fc.tuple(openaiCompletion, mutation).map(([c, m]) => JSON.stringify(mutate(c.body, m))),
      fc.string({ maxLength: 200 }),
    );
    await fc.assert(
      fc.asyncProperty(brokenBody, brokenBody, async (forOpenAI, forAnthropic) => {
        server.reset();
        server.script({ route: 'broken-openai' }, { then: fault.malformedJson(forOpenAI) });
        server.script({ route: 'broken-anthropic' }, { then: fault.malformedJson(forAnthropic) });
        const result = await llm.chat({ messages: [{ role: 'user', content: 'hi' }] });
        // A body that happens to be a usable answer is one; anything else falls through to the healthy target.
        expect(typeof result.text).toBe('string');
        if (result.target.index === 2) expect(result.text).toContain('healthy');
        expectUsage(result.usage);
        expect(Number.isFinite(result.costUsd) && result.costUsd >= 0).toBe(true);
      }),
      propertyParams(0.2),
    );
  });
});
