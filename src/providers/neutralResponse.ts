import type { FinishReason, ProviderResponse, ReasoningBlock, ToolCall, Usage } from '../request/types.js';

/** A token count as usage may report it: a whole number, >= 0 (never NaN, negative or 1e400 → Infinity). */
export function isTokenCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

/**
 * The neutral answer from a provider's parsed body: the model and response id it reports (else
 * the configured model), plus what the converter extracted.
 */
export function neutralResponse(
  body: Record<string, unknown>,
  parts: { text: string; toolCalls: ToolCall[]; finishReason: FinishReason; usage: Usage | undefined; reasoning?: string; reasoningBlocks?: ReasoningBlock[] },
  configuredModel: string,
): ProviderResponse {
  const { text, toolCalls, finishReason, usage, reasoning, reasoningBlocks } = parts;
  return {
    text,
    toolCalls,
    finishReason,
    ...(usage && { usage }),
    ...(reasoning && { reasoning }),
    ...(reasoningBlocks && reasoningBlocks.length > 0 && { reasoningBlocks }),
    model: typeof body['model'] === 'string' && body['model'] !== '' ? body['model'] : configuredModel,
    ...(typeof body['id'] === 'string' && body['id'] !== '' && { responseId: body['id'] }),
  };
}
