/**
 * A plain `openai` tool loop: the model asks for a tool, the loop runs it and sends the result back, until the
 * model answers. Changed in ONE place to go through Bulwark: the client gets `fetch: bulwarkFetch(llm)`.
 *
 *   npm run example:openai-tools
 *
 * Scripted: the primary (OpenAI) answers the first turn (the tool call), then has an outage; the chain
 * retries it once and falls back to the backup (Anthropic), which answers the turn with the tool result.
 */
import OpenAI from 'openai';
import { bulwarkFetch } from '../src/index.js';
import { fault, startExampleChain } from './faultChain.js';

const { llm, close } = await startExampleChain({
  primaryBefore: [fault.ok({ toolCalls: [{ id: 'call_1', name: 'get_weather', arguments: { city: 'Paris' } }] })],
  backup: [fault.ok({ text: 'It is sunny and 21 °C in Paris.' })],
});

// --- the agent ---------------------------------------------------------------------------------------------
const openai = new OpenAI({ apiKey: 'unused', fetch: bulwarkFetch(llm) }); // ← the one Bulwark line

const tools: OpenAI.Chat.Completions.ChatCompletionTool[] = [
  {
    type: 'function',
    function: {
      name: 'get_weather',
      description: 'Current weather in a city',
      parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'], additionalProperties: false },
    },
  },
];

function getWeather(args: { city: string }): string {
  return JSON.stringify({ city: args.city, sky: 'sunny', celsius: 21 });
}

const messages: OpenAI.Chat.Completions.ChatCompletionMessageParam[] = [
  { role: 'system', content: 'Answer with the weather tool.' },
  { role: 'user', content: 'What is the weather in Paris?' },
];

try {
  for (let turn = 1; turn <= 5; turn++) {
    const completion = await openai.chat.completions.create({ model: 'gpt-4o', messages, tools });
    const message = completion.choices[0]!.message;
    messages.push(message);
    const calls = message.tool_calls ?? [];
    if (calls.length === 0) {
      console.log(`agent: final answer: ${message.content}`);
      break;
    }
    for (const call of calls) {
      if (call.type !== 'function') continue;
      const result = getWeather(JSON.parse(call.function.arguments) as { city: string });
      console.log(`agent: turn ${turn}: tool ${call.function.name}(${call.function.arguments}) → ${result}`);
      messages.push({ role: 'tool', tool_call_id: call.id, content: result });
    }
  }
} finally {
  await close();
}
