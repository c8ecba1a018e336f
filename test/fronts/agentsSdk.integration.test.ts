/**
 * The OpenAI Agents SDK (`@openai/agents`, pinned) through bulwarkFetch, unchanged but for the
 * client it is given: an agent with a tool runs its loop while the primary goes down between the
 * tool turn and the answer turn; the chain carries the conversation to the Anthropic backup.
 */
import { Agent, OpenAIChatCompletionsModel, run, setDefaultOpenAIClient, setOpenAIAPI, setTracingDisabled, tool } from '@openai/agents';
import OpenAI from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { bulwarkFetch } from '../../src/fronts/index.js';
import { fault, startFaultServer, type FaultServer } from '../../src/testing/index.js';
import { threeTargetChain } from '../integration/setup.js';

let server: FaultServer;
beforeAll(async () => {
  server = await startFaultServer({ seed: 133 });
  setTracingDisabled(true);
});
afterAll(() => server.close());
beforeEach(() => server.reset());

const hits = (route: string) => server.hits({ route });

function weatherAgent(calls: string[], model?: OpenAIChatCompletionsModel) {
  const getWeather = tool({
    name: 'get_weather',
    description: 'Weather in a city',
    parameters: z.object({ city: z.string() }),
    execute: async ({ city }) => {
      calls.push(city);
      return `Sunny in ${city}`;
    },
  });
  // A named non-gpt-5 model: the SDK's default model (gpt-5.x) sends `verbosity` (and `reasoning_effort`),
  // and the front refuses verbosity with a 400 naming it (test below).
  return new Agent({ name: 'Weather', instructions: 'Answer with the weather tool.', tools: [getWeather], model: model ?? 'gpt-4o' });
}

/** The primary answers the tool turn, then is down; the backup answers the turn after the tool ran. */
function scriptOutage() {
  server.script({ route: 'primary' }, { sequence: [fault.ok({ toolCalls: [{ id: 'call_w1', name: 'get_weather', arguments: { city: 'Paris' } }] })], then: fault.serverError(503) });
  server.script({ route: 'backup' }, { then: fault.ok({ text: 'It is sunny in Paris.' }) });
}

/** What the backup was sent: the tool call and its result, as Anthropic blocks. */
function backupSawToolTurn() {
  const sent = server.requests.find((r) => r.route === 'backup')!.body as { system?: unknown; messages: Array<{ role: string; content: unknown }> };
  expect(sent.system).toBe('Answer with the weather tool.');
  expect(sent.messages.slice(1)).toEqual([
    { role: 'assistant', content: [{ type: 'tool_use', id: 'call_w1', name: 'get_weather', input: { city: 'Paris' } }] },
    { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'call_w1', content: 'Sunny in Paris' }] },
  ]);
}

describe('@openai/agents through bulwarkFetch', () => {
  it('run() with setDefaultOpenAIClient: the primary goes down halfway through the run, the backup finishes it', async () => {
    const { llm } = threeTargetChain(server, { retry: { maxAttempts: 1 } });
    setDefaultOpenAIClient(new OpenAI({ apiKey: 'unused', fetch: bulwarkFetch(llm) }));
    setOpenAIAPI('chat_completions');
    scriptOutage();
    const calls: string[] = [];
    const result = await run(weatherAgent(calls), 'What is the weather in Paris?');
    expect(result.finalOutput).toBe('It is sunny in Paris.');
    expect(calls).toEqual(['Paris']);
    expect([hits('primary'), hits('backup')]).toEqual([2, 1]);
    backupSawToolTurn();
  });

  it("the SDK's default model settings (gpt-5.x: verbosity) are refused with a 400 naming the field, not dropped", async () => {
    const { llm } = threeTargetChain(server, { retry: { maxAttempts: 1 } });
    setDefaultOpenAIClient(new OpenAI({ apiKey: 'unused', fetch: bulwarkFetch(llm) }));
    setOpenAIAPI('chat_completions');
    const agent = new Agent({ name: 'Default', instructions: 'Hi' });
    const error = await run(agent, 'Hello').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    expect(error).toMatchObject({ status: 400, param: 'verbosity' });
    expect(server.requests).toHaveLength(0);
  });

  it('a streamed run() with OpenAIChatCompletionsModel does the same', async () => {
    const { llm } = threeTargetChain(server, { retry: { maxAttempts: 1 } });
    const model = new OpenAIChatCompletionsModel(new OpenAI({ apiKey: 'unused', fetch: bulwarkFetch(llm) }), 'gpt-4o');
    scriptOutage();
    const calls: string[] = [];
    const result = await run(weatherAgent(calls, model), 'What is the weather in Paris?', { stream: true });
    await result.completed;
    expect(result.finalOutput).toBe('It is sunny in Paris.');
    expect(calls).toEqual(['Paris']);
    expect([hits('primary'), hits('backup')]).toEqual([2, 1]);
    backupSawToolTurn();
  });
});
