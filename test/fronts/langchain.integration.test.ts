/**
 * LangChain.js (`@langchain/openai`, pinned) through bulwarkFetch: `ChatOpenAI({ configuration: {
 * fetch } })` against a chain whose primary fails — invoke, tool calls and streaming.
 */
import { tool } from '@langchain/core/tools';
import { ChatOpenAI } from '@langchain/openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { bulwarkFetch } from '../../src/fronts/index.js';
import { fault, startFaultServer, type FaultServer } from '../../src/testing/index.js';
import { threeTargetChain } from '../integration/setup.js';

let server: FaultServer;
beforeAll(async () => {
  server = await startFaultServer({ seed: 137 });
});
afterAll(() => server.close());
beforeEach(() => server.reset());

const hits = (route: string) => server.hits({ route });

function chatModel() {
  const { llm } = threeTargetChain(server, { retry: { maxAttempts: 1 } });
  return new ChatOpenAI({ model: 'gpt-4o', apiKey: 'unused', configuration: { fetch: bulwarkFetch(llm) } });
}

describe('LangChain ChatOpenAI through bulwarkFetch', () => {
  it('invoke answers from the backup when the primary fails', async () => {
    server.script({ route: 'primary' }, { then: fault.serverError(503) });
    server.script({ route: 'backup' }, { then: fault.ok({ text: 'Hello from the backup' }) });
    const message = await chatModel().invoke('Hi');
    expect(message.content).toBe('Hello from the backup');
    expect([hits('primary'), hits('backup')]).toEqual([1, 1]);
  });

  it('bindTools: the tool call comes back as LangChain tool_calls', async () => {
    server.script({ route: 'primary' }, { then: fault.ok({ toolCalls: [{ id: 'call_lc', name: 'get_weather', arguments: { city: 'Paris' } }] }) });
    const getWeather = tool(async ({ city }) => `Sunny in ${city}`, { name: 'get_weather', description: 'Weather in a city', schema: z.object({ city: z.string() }) });
    const message = await chatModel().bindTools([getWeather]).invoke('Weather in Paris?');
    expect(message.tool_calls).toEqual([expect.objectContaining({ id: 'call_lc', name: 'get_weather', args: { city: 'Paris' } })]);
  });

  it('stream yields the backup’s text chunk by chunk', async () => {
    server.script({ route: 'primary' }, { then: fault.serverError(500) });
    server.script({ route: 'backup' }, { then: fault.ok({ text: 'Streamed through LangChain' }) });
    let text = '';
    for await (const chunk of await chatModel().stream('Hi')) text += typeof chunk.content === 'string' ? chunk.content : '';
    expect(text).toBe('Streamed through LangChain');
  });
});
