export type { ModelPrice, AttemptOptions, ProviderAdapter, TargetOptions, Target } from './adapter.js';
export { openaiTarget, type OpenAITargetOptions } from './openai.js';
export { anthropicTarget, type AnthropicTargetOptions, DEFAULT_ANTHROPIC_MAX_TOKENS } from './anthropic.js';
export type { MaxTokensParam } from './openaiConvert.js';
