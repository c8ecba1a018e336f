/**
 * A Vercel AI SDK agent with tools (`ToolLoopAgent`, `ai` 7.x): it looks up the weather and the local time,
 * then answers. Changed in ONE place to go through Bulwark: its model is `bulwarkModel(llm)`.
 *
 *   npm run example:ai-sdk-agent
 *
 * Scripted: the primary (OpenAI) answers the first step (a tool call), then has an outage; the chain retries
 * it once and falls back to the backup (Anthropic), which carries the loop on (a second tool call) and answers.
 */
import { jsonSchema, stepCountIs, tool, ToolLoopAgent } from 'ai';
import { bulwarkModel } from '../src/ai-sdk/index.js';
import { fault, startExampleChain } from './faultChain.js';

// The AI SDK prints a warning line for each setting a model reports it cannot honour; none are expected here.
(globalThis as { AI_SDK_LOG_WARNINGS?: boolean }).AI_SDK_LOG_WARNINGS = false;

const { llm, close } = await startExampleChain({
  primaryBefore: [fault.ok({ toolCalls: [{ id: 'call_1', name: 'get_weather', arguments: { city: 'Paris' } }] })],
  backup: [
    fault.ok({ toolCalls: [{ id: 'toolu_2', name: 'get_time', arguments: { city: 'Paris' } }] }),
    fault.ok({ text: 'In Paris it is sunny and 21 °C; the local time is 12:00.' }),
  ],
});

// --- the agent ---------------------------------------------------------------------------------------------
const city = jsonSchema<{ city: string }>({
  type: 'object',
  properties: { city: { type: 'string' } },
  required: ['city'],
  additionalProperties: false,
});

const agent = new ToolLoopAgent({
  model: bulwarkModel(llm), // ← the one Bulwark line
  instructions: 'Answer with the weather and the local time, using the tools.',
  tools: {
    get_weather: tool({
      description: 'Current weather in a city',
      inputSchema: city,
      execute: async ({ city }) => ({ city, sky: 'sunny', celsius: 21 }),
    }),
    get_time: tool({
      description: 'Local time in a city',
      inputSchema: city,
      execute: async ({ city }) => ({ city, time: '12:00' }),
    }),
  },
  stopWhen: stepCountIs(5),
  onStepFinish: (step) => {
    for (const call of step.toolCalls) console.log(`agent: tool ${call.toolName}(${JSON.stringify(call.input)})`);
  },
});

try {
  const result = await agent.generate({ prompt: 'What is the weather and the time in Paris?' });
  console.log(`agent: final answer: ${result.text}`);
  console.log(`agent: ${result.steps.length} steps`);
} finally {
  await close();
}
