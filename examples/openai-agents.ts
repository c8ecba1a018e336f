/**
 * An OpenAI Agents SDK (`@openai/agents`) agent with a tool and a handoff: a triage agent hands the question to
 * a weather agent, which calls its tool and answers. Changed in ONE place to go through Bulwark: the model both
 * agents use is built on an OpenAI client with `fetch: bulwarkFetch(llm)`.
 *
 *   npm run example:openai-agents
 *
 * Scripted: the primary (OpenAI) answers the triage turn (the handoff), then has an outage; the chain retries
 * it once and falls back to the backup (Anthropic), which runs the weather agent's turns (tool call, answer).
 */
import { Agent, OpenAIChatCompletionsModel, Runner, setTracingDisabled, tool } from '@openai/agents';
import OpenAI from 'openai';
import { z } from 'zod';
import { bulwarkFetch } from '../src/index.js';
import { fault, startExampleChain } from './faultChain.js';

// Example only: there is no OpenAI key here to upload the SDK's traces with.
setTracingDisabled(true);

const { llm, close } = await startExampleChain({
  primaryBefore: [fault.ok({ toolCalls: [{ id: 'call_1', name: 'transfer_to_weather_agent', arguments: {} }] })],
  backup: [
    fault.ok({ toolCalls: [{ id: 'toolu_2', name: 'get_weather', arguments: { city: 'Paris' } }] }),
    fault.ok({ text: 'It is sunny and 21 °C in Paris.' }),
  ],
});

// --- the agent ---------------------------------------------------------------------------------------------
const model = new OpenAIChatCompletionsModel(new OpenAI({ apiKey: 'unused', fetch: bulwarkFetch(llm) }), 'gpt-4o'); // ← the one Bulwark line

const getWeather = tool({
  name: 'get_weather',
  description: 'Current weather in a city',
  parameters: z.object({ city: z.string() }),
  execute: async ({ city }) => JSON.stringify({ city, sky: 'sunny', celsius: 21 }),
});

const weatherAgent = new Agent({
  name: 'weather_agent',
  handoffDescription: 'Answers questions about the weather',
  instructions: 'Answer with the get_weather tool.',
  tools: [getWeather],
  model,
});

const triageAgent = new Agent({
  name: 'triage_agent',
  instructions: 'Hand weather questions to the weather agent.',
  handoffs: [weatherAgent],
  model,
});

const runner = new Runner();
runner.on('agent_handoff', (_context, from, to) => console.log(`agent: handoff ${from.name} → ${to.name}`));
runner.on('agent_tool_start', (_context, agent, calledTool, { toolCall }) => {
  const args = toolCall.type === 'function_call' ? toolCall.arguments : '';
  console.log(`agent: ${agent.name} calls ${calledTool.name}(${args})`);
});

try {
  const result = await runner.run(triageAgent, 'What is the weather in Paris?');
  console.log(`agent: final answer (${result.lastAgent?.name}): ${result.finalOutput}`);
} finally {
  await close();
}
