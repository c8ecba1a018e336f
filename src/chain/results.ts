import type { CachedAnswer } from '../cache/responseCache.js';
import type { Outcome } from '../events/engineObserver.js';
import { parseStructured } from '../validation/structuredOutput.js';
import type { ChatResult, ProviderResponse, StreamEvent, Tier } from '../request/types.js';
import type { TargetRuntime } from './targetRuntime.js';
import type { WalkState } from './walkState.js';

/*
 * The results one request can end with: answered by a target (tier 'full' or 'reduced'), served
 * from the cache (fresh, or stale after every target failed), or the static reply.
 */

/** Answered by `target`: 'full' at the primary, 'reduced' after a hop or at a target marked reduced. */
export function answered(state: WalkState, target: TargetRuntime, response: ProviderResponse): ChatResult {
  const fallbackUsed = target.index !== 0;
  const tier: Tier = fallbackUsed || target.target.tier === 'reduced' ? 'reduced' : 'full';
  const last = state.lastFailure;
  return {
    text: response.text,
    toolCalls: response.toolCalls,
    finishReason: response.finishReason,
    usage: response.usage ?? { inputTokens: 0, outputTokens: 0 },
    costUsd: state.costUsd,
    tier,
    target: target.ref,
    attempts: state.attempts,
    fallbackUsed,
    model: response.model,
    ...(response.responseId !== undefined && { responseId: response.responseId }),
    ...(response.object !== undefined && { object: response.object }),
    ...(response.reasoning !== undefined && { reasoning: response.reasoning }),
    ...(response.reasoningBlocks !== undefined && { reasoningBlocks: response.reasoningBlocks }),
    ...(fallbackUsed && last && { warning: `Answered by fallback target ${target.label} (${last.ref.provider}/${last.ref.model} failed: ${last.reason})` }),
  };
}

/** A fresh cache hit served before any call ('read-through'). */
export function freshCachedResult(state: WalkState, answer: CachedAnswer): ChatResult {
  return {
    text: answer.text,
    toolCalls: answer.toolCalls,
    finishReason: answer.finishReason,
    usage: answer.usage,
    costUsd: 0,
    tier: 'cached',
    target: { provider: answer.provider, model: answer.model, index: -1 },
    attempts: state.attempts,
    fallbackUsed: false,
    model: answer.model,
    ...storedObject(state, answer),
  };
}

/**
 * A stored answer to a structured request, parsed again. The cache key includes the responseFormat,
 * so the entry was validated against the same schema when it was saved.
 */
function storedObject(state: WalkState, answer: CachedAnswer): { object?: unknown } {
  const format = state.request.responseFormat;
  if (!format || answer.toolCalls.length > 0) return {};
  const parsed = parseStructured(format, answer.text);
  return parsed.ok ? { object: parsed.value } : {};
}

function degradedResult(state: WalkState, tier: Tier, fields: Pick<ChatResult, 'text' | 'toolCalls' | 'finishReason' | 'usage' | 'model'>, warning: string, provider: string): ChatResult {
  return {
    ...fields,
    costUsd: state.costUsd,
    tier,
    target: { provider, model: fields.model, index: -1 },
    attempts: state.attempts,
    fallbackUsed: true,
    warning,
  };
}

/** A stored answer standing in for the targets that failed (or for a forced tier). */
export function cachedResult(state: WalkState, answer: CachedAnswer, ageMs: number, why: string): ChatResult {
  const { text, toolCalls, finishReason, usage, model, provider } = answer;
  return { ...degradedResult(state, 'cached', { text, toolCalls, finishReason, usage, model }, `Served a cached answer (${Math.round(ageMs / 1000)} s old): ${why}`, provider), ...storedObject(state, answer) };
}

export function staticResult(state: WalkState, text: string, why: string): ChatResult {
  return degradedResult(
    state,
    'static',
    { text, toolCalls: [], finishReason: 'stop', usage: { inputTokens: 0, outputTokens: 0 }, model: 'static' },
    `Served the static reply: ${why}`,
    'bulwark',
  );
}

export function outcomeOf(result: ChatResult): Outcome {
  if (result.tier === 'cached') return 'cached';
  if (result.tier === 'static') return 'static';
  if (result.fallbackUsed) return 'success_via_fallback';
  // A hedge that lost to the primary is no retry: the primary answered its first call.
  return result.attempts.filter((a) => a.kind !== 'hedge').length > 1 ? 'success_after_retry' : 'success';
}

/**
 * Only complete answers are kept: a cached answer may be served hours later as a stand-in
 * during an outage. A finished text or a tool call is; an answer cut at maxTokens ('length'),
 * one of unknown completeness ('other'), a refusal or an empty answer is not.
 */
export function cacheableAnswer(result: ChatResult, storedAt: number): CachedAnswer | undefined {
  if (result.finishReason !== 'stop' && result.finishReason !== 'tool_calls') return undefined;
  if (result.text === '' && result.toolCalls.length === 0) return undefined;
  return {
    text: result.text,
    toolCalls: result.toolCalls,
    finishReason: result.finishReason,
    usage: result.usage,
    model: result.model,
    provider: result.target.provider,
    storedAt,
  };
}

/** A finished answer replayed as stream events (cached and static answers, streamed). */
export function* replay(result: ChatResult): Generator<StreamEvent> {
  if (result.text) yield { type: 'text', delta: result.text };
  for (const [index, call] of result.toolCalls.entries()) yield { type: 'tool_call', index, id: call.id, name: call.name, argumentsDelta: call.arguments };
  yield { type: 'usage', usage: result.usage };
  yield { type: 'finish', finishReason: result.finishReason, model: result.model };
}
