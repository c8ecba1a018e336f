/**
 * bulwarkModel(llm) under the real `ai` package (7.x, provider spec v4): generateText tool loops
 * that hop providers between steps, streamText failing over before the first chunk, abort, the
 * mid-stream restart as a clean error, and what cannot be honoured (errors naming it, warnings).
 * The chain is the official OpenAI and Anthropic clients over real HTTP against the fault server.
 */
import { Experimental_Agent as Agent, generateObject, generateText, jsonSchema, Output, stepCountIs, streamObject, streamText, tool } from 'ai';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { bulwarkModel, StreamRestartedError } from '../../src/ai-sdk/index.js';
import { fault, startFaultServer, type FaultServer } from '../../src/testing/index.js';
import { threeTargetChain } from '../integration/setup.js';

// The warnings are asserted on; the SDK's console copy of them is noise.
(globalThis as { AI_SDK_LOG_WARNINGS?: boolean }).AI_SDK_LOG_WARNINGS = false;

let server: FaultServer;
beforeAll(async () => {
  server = await startFaultServer({ seed: 13 });
});
afterAll(() => server.close());
beforeEach(() => server.reset());

const cityInput = jsonSchema<{ city: string }>({
  type: 'object',
  properties: { city: { type: 'string' } },
  required: ['city'],
  additionalProperties: false,
});

function weatherTools(calls: string[]) {
  return {
    get_weather: tool({
      description: 'Weather in a city',
      inputSchema: cityInput,
      execute: async ({ city }) => {
        calls.push(`weather:${city}`);
        return `Sunny in ${city}`;
      },
    }),
    get_time: tool({
      description: 'Local time in a city',
      inputSchema: cityInput,
      execute: async ({ city }) => {
        calls.push(`time:${city}`);
        return { city, time: '12:00' };
      },
    }),
  };
}

describe('bulwarkModel: generateText', () => {
  it('answers through the chain and reports Bulwark facts in providerMetadata.bulwark', async () => {
    const { llm } = threeTargetChain(server, { retry: { maxAttempts: 1 } });
    server.script({ route: 'primary' }, { then: fault.serverError(503) });
    server.script({ route: 'backup' }, { then: fault.ok({ text: 'Hello from the backup', usage: { inputTokens: 11, outputTokens: 4, cacheReadTokens: 6 } }) });
    const result = await generateText({ model: bulwarkModel(llm), prompt: 'Hi', maxOutputTokens: 50, temperature: 0.2 });
    expect(result.text).toBe('Hello from the backup');
    expect(result.finishReason).toBe('stop');
    expect(result.usage).toMatchObject({ inputTokens: 11, outputTokens: 4, inputTokenDetails: { cacheReadTokens: 6, noCacheTokens: 5 } });
    expect(result.providerMetadata?.['bulwark']).toMatchObject({
      tier: 'reduced',
      target: { provider: 'anthropic', model: 'claude-sonnet-4-6', index: 1 },
      fallbackUsed: true,
      attempts: [
        { provider: 'openai', kind: 'initial', errorType: 'server_error' },
        { provider: 'anthropic', kind: 'fallback' },
      ],
    });
    expect((result.providerMetadata?.['bulwark'] as { costUsd: number }).costUsd).toBeGreaterThan(0);
    expect(server.requests.map((r) => r.body)).toMatchObject([
      { max_tokens: 50, temperature: 0.2 },
      { max_tokens: 50 },
    ]);
    expect(result.warnings).toEqual([]);
  });

  it("an exhausted chain is a BulwarkError the AI SDK's own retries (maxRetries 2 by default) do not repeat", async () => {
    const { llm } = threeTargetChain(server, { retry: { maxAttempts: 1 }, degrade: { enabled: false } });
    server.script({}, { then: fault.serverError(503) });
    const error = await generateText({ model: bulwarkModel(llm), prompt: 'Hi', maxRetries: 2 }).catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'BulwarkError', errorType: 'server_error' });
    expect(server.requests.map((r) => r.route)).toEqual(['primary', 'backup', 'local']);

    server.reset();
    server.script({}, { then: fault.serverError(503) });
    const errors: unknown[] = [];
    const streamed = streamText({ model: bulwarkModel(llm), prompt: 'Hi', maxRetries: 2, onError: ({ error: e }) => void errors.push(e) });
    const kinds: string[] = [];
    for await (const part of streamed.fullStream) kinds.push(part.type);
    expect(kinds).not.toContain('text-delta');
    expect(errors).toEqual([expect.objectContaining({ name: 'BulwarkError', errorType: 'server_error' })]);
    expect(server.requests).toHaveLength(3);
  });

  it('runs a two-tool-step loop while the chain hops OpenAI → Anthropic → OpenAI between the steps', async () => {
    const { llm } = threeTargetChain(server, { retry: { maxAttempts: 1 } });
    server.script(
      { route: 'primary' },
      {
        sequence: [
          fault.ok({ toolCalls: [{ id: 'call_w1', name: 'get_weather', arguments: { city: 'Paris' } }] }),
          fault.serverError(503),
        ],
        then: fault.ok({ text: 'Sunny in Paris at noon.' }),
      },
    );
    server.script({ route: 'backup' }, { then: fault.ok({ toolCalls: [{ id: 'toolu_t1', name: 'get_time', arguments: { city: 'Paris' } }] }) });
    const calls: string[] = [];
    const result = await generateText({
      model: bulwarkModel(llm),
      system: 'You are a weather bot.',
      prompt: 'Weather and time in Paris?',
      tools: weatherTools(calls),
      stopWhen: stepCountIs(5),
    });
    expect(calls).toEqual(['weather:Paris', 'time:Paris']);
    expect(result.text).toBe('Sunny in Paris at noon.');
    expect(result.steps.map((s) => (s.providerMetadata?.['bulwark'] as { target: { provider: string } }).target.provider)).toEqual([
      'openai',
      'anthropic',
      'openai',
    ]);
    expect(result.steps.map((s) => s.finishReason)).toEqual(['tool-calls', 'tool-calls', 'stop']);

    // Step 2 went to Anthropic with step 1's OpenAI tool call and its result in Anthropic's shape.
    const toAnthropic = server.requests.find((r) => r.route === 'backup')!.body as { system: unknown; messages: unknown[]; tools: Array<{ name: string }> };
    expect(toAnthropic.system).toBe('You are a weather bot.');
    expect(toAnthropic.tools.map((t) => t.name)).toEqual(['get_weather', 'get_time']);
    expect(toAnthropic.messages.slice(1)).toEqual([
      { role: 'assistant', content: [{ type: 'tool_use', id: 'call_w1', name: 'get_weather', input: { city: 'Paris' } }] },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'call_w1', content: 'Sunny in Paris' }] },
    ]);
    // Step 3 went back to OpenAI with Anthropic's tool call; a JSON tool output is sent as JSON text.
    const lastToOpenAI = server.requests.filter((r) => r.route === 'primary').at(-1)!.body as { messages: unknown[] };
    expect(lastToOpenAI.messages.slice(-2)).toEqual([
      {
        role: 'assistant',
        content: null,
        tool_calls: [{ id: 'toolu_t1', type: 'function', function: { name: 'get_time', arguments: '{"city":"Paris"}' } }],
      },
      { role: 'tool', tool_call_id: 'toolu_t1', content: '{"city":"Paris","time":"12:00"}' },
    ]);
  });

  it('the AI SDK Agent (ToolLoopAgent) runs its loop through the chain while the primary goes down halfway', async () => {
    const { llm } = threeTargetChain(server, { retry: { maxAttempts: 1 } });
    server.script(
      { route: 'primary' },
      { sequence: [fault.ok({ toolCalls: [{ id: 'call_a1', name: 'get_weather', arguments: { city: 'Rome' } }] })], then: fault.serverError(503) },
    );
    server.script({ route: 'backup' }, { then: fault.ok({ text: 'Sunny in Rome.' }) });
    const calls: string[] = [];
    const agent = new Agent({ model: bulwarkModel(llm), instructions: 'You are a weather bot.', tools: weatherTools(calls), stopWhen: stepCountIs(4) });
    const result = await agent.generate({ prompt: 'Rome?' });
    expect(result.text).toBe('Sunny in Rome.');
    expect(calls).toEqual(['weather:Rome']);
    expect(result.steps.map((s) => (s.providerMetadata?.['bulwark'] as { target: { provider: string } }).target.provider)).toEqual(['openai', 'anthropic']);
  });

  it('abort: the caller’s signal stops the call at once and closes the upstream request', async () => {
    const { llm } = threeTargetChain(server);
    server.script({ route: 'primary' }, { then: fault.hang() });
    const controller = new AbortController();
    const pending = generateText({ model: bulwarkModel(llm), prompt: 'Hi', abortSignal: controller.signal }).catch((e: unknown) => e);
    await vi.waitFor(() => expect(server.hits({ route: 'primary' })).toBe(1));
    controller.abort();
    const error = await pending;
    expect(error).toMatchObject({ errorType: 'cancelled' });
    await server.idle();
    expect(server.requests).toHaveLength(1);
    expect(server.requests[0]!.clientClosed).toBe(true);
  });

  it('a file no target of the chain takes (audio) fails before any upstream call, saying why', async () => {
    const { llm } = threeTargetChain(server);
    const error = await generateText({
      model: bulwarkModel(llm),
      messages: [{ role: 'user', content: [{ type: 'text', text: 'What is this?' }, { type: 'file', data: new Uint8Array([1, 2, 3]), mediaType: 'audio/wav' }] }],
    }).catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'BulwarkError' });
    expect((error as Error).message).toContain('audio/wav');
    expect(server.requests).toHaveLength(0);
  });

  it('call options: unsupported sampling settings are AI SDK warnings; provider options and extra headers are errors naming them', async () => {
    const { llm } = threeTargetChain(server);
    const model = bulwarkModel(llm);
    const result = await generateText({ model, prompt: 'Hi', topK: 3, seed: 7 });
    expect(result.warnings).toEqual([
      expect.objectContaining({ type: 'unsupported', feature: 'topK' }),
      expect.objectContaining({ type: 'unsupported', feature: 'seed' }),
    ]);
    const viaOptions = await generateText({ model, prompt: 'Hi', providerOptions: { openai: { store: true } } }).catch((e: unknown) => e);
    expect((viaOptions as Error).message).toMatch(/call\.providerOptions .*openai/);
    const viaHeaders = await generateText({ model, prompt: 'Hi', headers: { 'x-tenant': 'a' } }).catch((e: unknown) => e);
    expect((viaHeaders as Error).message).toContain('headers.x-tenant');
    expect(server.requests).toHaveLength(1);
  });
});

describe('bulwarkModel: reasoning', () => {
  it("reasoning: 'high' turns on Anthropic thinking; the signed blocks ride the reasoning part into the next tool step", async () => {
    const { llm } = threeTargetChain(server, { order: ['backup', 'primary'] });
    server.script(
      { route: 'backup' },
      {
        sequence: [fault.ok({ reasoning: 'The user wants the weather. I will call the tool.', toolCalls: [{ id: 'toolu_r1', name: 'get_weather', arguments: { city: 'Lyon' } }] })],
        then: fault.ok({ text: 'Sunny in Lyon.' }),
      },
    );
    const calls: string[] = [];
    const result = await generateText({ model: bulwarkModel(llm), prompt: 'Lyon?', tools: weatherTools(calls), stopWhen: stepCountIs(3), reasoning: 'high', maxOutputTokens: 8000 });
    expect(result.text).toBe('Sunny in Lyon.');
    expect(result.steps[0]!.reasoningText).toBe('The user wants the weather. I will call the tool.');
    const [first, second] = server.requests.map((r) => r.body as { thinking?: unknown; messages: Array<{ role: string; content: unknown }> });
    expect(first!.thinking).toMatchObject({ type: 'enabled' });
    // Step 2 sent the thinking block back, signature intact (the fault server verifies it), before the tool use.
    expect(second!.messages[1]).toMatchObject({
      role: 'assistant',
      content: [{ type: 'thinking', thinking: 'The user wants the weather. I will call the tool.', signature: expect.any(String) }, { type: 'tool_use', id: 'toolu_r1' }],
    });
  });

  it('streamText: reasoning deltas stream as a reasoning block, its blocks carried into the next step', async () => {
    const { llm } = threeTargetChain(server, { order: ['backup', 'primary'] });
    server.script(
      { route: 'backup' },
      {
        sequence: [fault.ok({ reasoning: 'Thinking about Oslo weather now.', toolCalls: [{ id: 'toolu_s1', name: 'get_weather', arguments: { city: 'Oslo' } }] })],
        then: fault.ok({ text: 'Sunny in Oslo.' }),
      },
    );
    const result = streamText({ model: bulwarkModel(llm), prompt: 'Oslo?', tools: weatherTools([]), stopWhen: stepCountIs(3), reasoning: 'medium', maxOutputTokens: 8000 });
    let reasoning = '';
    for await (const part of result.fullStream) if (part.type === 'reasoning-delta') reasoning += part.text;
    expect(reasoning).toBe('Thinking about Oslo weather now.');
    expect(await result.text).toBe('Sunny in Oslo.');
    const second = server.requests[1]!.body as { messages: Array<{ content: Array<{ type: string }> }> };
    expect(second.messages[1]!.content.map((c) => c.type)).toEqual(['thinking', 'tool_use']);
  });

  it("reasoning: 'none' cannot be said to every target: an error naming it", async () => {
    const { llm } = threeTargetChain(server);
    const error = await generateText({ model: bulwarkModel(llm), prompt: 'Hi', reasoning: 'none' }).catch((e: unknown) => e);
    expect((error as Error).message).toContain("reasoning ('none')");
    expect(server.requests).toHaveLength(0);
  });
});

describe('bulwarkModel: structured output', () => {
  const forecast = jsonSchema<{ city: string; tempC: number }>({
    type: 'object',
    properties: { city: { type: 'string' }, tempC: { type: 'number' } },
    required: ['city', 'tempC'],
    additionalProperties: false,
  });
  const valid = '{"city":"Paris","tempC":18}';

  it('generateObject: the primary answers off-schema (invalid_output, retried once), the backup answers, the object validates', async () => {
    const { llm } = threeTargetChain(server);
    server.script({ route: 'primary' }, { then: fault.ok({ text: '{"city":"Paris","tempC":"warm"}' }) });
    server.script({ route: 'backup' }, { then: fault.ok({ text: valid }) });
    const result = await generateObject({ model: bulwarkModel(llm), schema: forecast, schemaName: 'forecast', prompt: 'Weather in Paris as JSON' });
    expect(result.object).toEqual({ city: 'Paris', tempC: 18 });
    expect(result.providerMetadata?.['bulwark']).toMatchObject({
      target: { provider: 'anthropic' },
      fallbackUsed: true,
      attempts: [{ errorType: 'invalid_output' }, { errorType: 'invalid_output' }, { provider: 'anthropic' }],
    });
    // Each target was asked in its own structured-output shape, with the schema.
    const [toOpenAI, , toAnthropic] = server.requests.map((r) => r.body as Record<string, unknown>);
    expect(toOpenAI).toMatchObject({ response_format: { type: 'json_schema', json_schema: { name: 'forecast', schema: { required: ['city', 'tempC'] } } } });
    expect(toAnthropic).toMatchObject({ output_config: { format: { type: 'json_schema', schema: { required: ['city', 'tempC'] } } } });
  });

  it('generateText with Output.object and streamObject go through the same path', async () => {
    const { llm } = threeTargetChain(server);
    server.script({ route: 'primary' }, { then: fault.ok({ text: valid }) });
    const viaOutput = await generateText({ model: bulwarkModel(llm), output: Output.object({ schema: forecast }), prompt: 'Paris?' });
    expect(viaOutput.output).toEqual({ city: 'Paris', tempC: 18 });
    const streamed = streamObject({ model: bulwarkModel(llm), schema: forecast, prompt: 'Paris?' });
    const partials: unknown[] = [];
    for await (const partial of streamed.partialObjectStream) partials.push(partial);
    expect(partials.at(-1)).toEqual({ city: 'Paris', tempC: 18 });
    expect(await streamed.object).toEqual({ city: 'Paris', tempC: 18 });
  });

  it('JSON output without a schema fails naming the option', async () => {
    const { llm } = threeTargetChain(server);
    const noSchema = await generateObject({ model: bulwarkModel(llm), output: 'no-schema', prompt: 'Anything' }).catch((e: unknown) => e);
    expect((noSchema as Error).message).toContain('responseFormat.schema');
    expect(server.requests).toHaveLength(0);
  });
});

describe('bulwarkModel: streamText', () => {
  it('fails over before the first chunk: the consumer sees only the answer that succeeded', async () => {
    const { llm } = threeTargetChain(server, { retry: { maxAttempts: 1 } });
    server.script({ route: 'primary' }, { then: fault.serverError(503) });
    server.script({ route: 'backup' }, { then: fault.ok({ text: 'streamed from anthropic', usage: { inputTokens: 9, outputTokens: 3 } }) });
    const result = streamText({ model: bulwarkModel(llm), prompt: 'Hi' });
    let text = '';
    for await (const delta of result.textStream) text += delta;
    expect(text).toBe('streamed from anthropic');
    expect(await result.finishReason).toBe('stop');
    expect(await result.usage).toMatchObject({ inputTokens: 9, outputTokens: 3 });
    expect((await result.providerMetadata)?.['bulwark']).toMatchObject({ target: { provider: 'anthropic' }, fallbackUsed: true });
    expect(server.requests.map((r) => `${r.route}:${(r.body as { stream?: boolean }).stream}`)).toEqual(['primary:true', 'backup:true']);
  });

  it('streams tool calls and runs a tool loop', async () => {
    const { llm } = threeTargetChain(server);
    server.script(
      { route: 'primary' },
      {
        sequence: [fault.ok({ toolCalls: [{ id: 'call_s1', name: 'get_weather', arguments: { city: 'Oslo' } }] })],
        then: fault.ok({ text: 'Sunny in Oslo.' }),
      },
    );
    const calls: string[] = [];
    const result = streamText({ model: bulwarkModel(llm), prompt: 'Oslo?', tools: weatherTools(calls), stopWhen: stepCountIs(3) });
    expect(await result.text).toBe('Sunny in Oslo.');
    expect(calls).toEqual(['weather:Oslo']);
    const steps = await result.steps;
    expect(steps[0]!.toolCalls).toMatchObject([{ toolCallId: 'call_s1', toolName: 'get_weather', input: { city: 'Oslo' } }]);
  });

  it('abort mid-stream: the AI SDK stream ends as aborted and the upstream request is closed', async () => {
    const { llm } = threeTargetChain(server);
    server.script({ route: 'primary' }, { then: fault.ok({ text: 'one two three four five six seven eight nine ten', chunkDelayMs: 25 }) });
    const controller = new AbortController();
    let aborted = false;
    const result = streamText({ model: bulwarkModel(llm), prompt: 'Count', abortSignal: controller.signal, onAbort: () => void (aborted = true) });
    let text = '';
    for await (const part of result.fullStream) {
      if (part.type === 'text-delta') {
        text += part.text;
        if (text.split(' ').length === 3) controller.abort();
      }
    }
    expect(aborted).toBe(true);
    expect(text.startsWith('one two')).toBe(true);
    await server.idle();
    expect(server.requests).toHaveLength(1);
    expect(server.requests[0]!.clientClosed).toBe(true);
  });

  it("midStream 'restart' never splices two models' text: the restart is a clean stream error", async () => {
    const { llm } = threeTargetChain(server, { midStream: 'restart' });
    const first = 'The weather in Paris is mild today';
    server.script({ route: 'primary' }, { then: fault.streamCut({ afterChunks: 3, reply: { text: first } }) });
    server.script({ route: 'backup' }, { then: fault.ok({ text: 'Sunny in Paris.' }) });
    const errors: unknown[] = [];
    const result = streamText({ model: bulwarkModel(llm), prompt: 'Weather?', onError: ({ error }) => void errors.push(error) });
    let text = '';
    for await (const part of result.fullStream) if (part.type === 'text-delta') text += part.text;
    expect(text.length).toBeGreaterThan(0);
    expect(first.startsWith(text)).toBe(true);
    expect(text).not.toContain('Sunny');
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(StreamRestartedError);
    await server.idle();
    // Stopping at the reset closed the second target's stream too.
    expect(server.requests.every((r) => r.clientClosed || r.endedAt !== undefined)).toBe(true);
  });
});
