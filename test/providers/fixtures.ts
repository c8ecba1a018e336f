import type { ChatRequest } from '../../src/request/types.js';

export const weatherTool = {
  name: 'get_weather',
  description: 'Current weather for a city',
  parameters: {
    type: 'object',
    properties: { city: { type: 'string' }, unit: { type: 'string', enum: ['c', 'f'] } },
    required: ['city'],
  },
};

/** An agent's tool loop that started on OpenAI (tool call ids `call_…`). */
export const openaiToolLoop: ChatRequest = {
  messages: [
    { role: 'system', content: 'You are a weather bot.' },
    { role: 'user', content: 'Weather in Paris and Rome?' },
    {
      role: 'assistant',
      content: null,
      toolCalls: [
        { id: 'call_abc123', name: 'get_weather', arguments: '{"city":"Paris"}' },
        { id: 'call_def456', name: 'get_weather', arguments: '{"city":"Rome","unit":"c"}' },
      ],
    },
    { role: 'tool', toolCallId: 'call_abc123', content: '18°C, sunny' },
    { role: 'tool', toolCallId: 'call_def456', content: '22°C, cloudy' },
    { role: 'assistant', content: 'Paris: 18°C and sunny. Rome: 22°C and cloudy.' },
    { role: 'user', content: 'And London?' },
  ],
  tools: [weatherTool],
  toolChoice: 'auto',
  maxTokens: 300,
  temperature: 0.2,
  topP: 0.9,
  stop: ['END'],
};

/** The same kind of loop, started on Anthropic (tool call ids `toolu_…`). */
export const anthropicToolLoop: ChatRequest = {
  messages: [
    { role: 'user', content: 'Weather in Oslo?' },
    {
      role: 'assistant',
      content: 'Checking.',
      toolCalls: [{ id: 'toolu_01A09q90qw90lq917835lq9', name: 'get_weather', arguments: '{"city":"Oslo"}' }],
    },
    { role: 'tool', toolCallId: 'toolu_01A09q90qw90lq917835lq9', content: '-3°C, snow' },
  ],
  tools: [weatherTool],
};
