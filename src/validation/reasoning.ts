import { fail, fields, finite, oneOf, string, type Check } from './walk.js';
import type { ChatRequest, ReasoningBlock, ReasoningEffort, ReasoningOptions } from '../request/types.js';

export const REASONING_EFFORTS = ['minimal', 'low', 'medium', 'high'] as const satisfies readonly ReasoningEffort[];
/** Anthropic's smallest thinking budget. */
export const MIN_BUDGET_TOKENS = 1024;

/** Thinking budget for an effort, when only the effort is given (Anthropic takes a budget). */
const BUDGET_OF_EFFORT: Record<ReasoningEffort, number> = { minimal: 1024, low: 2048, medium: 8192, high: 24_576 };

/** `reasoning`, checked with the request walk. */
export const reasoningCheck: Check<ReasoningOptions> = (value, path) =>
  fields(
    {
      effort: oneOf(REASONING_EFFORTS),
      budgetTokens: finite({ integer: true, min: MIN_BUDGET_TOKENS, unit: 'tokens' }),
    },
    { unknown: 'reject' },
  )(value, path) as ReasoningOptions;

/** One block of an assistant message's `reasoning`, checked with the request walk. */
export const reasoningBlockCheck: Check<ReasoningBlock> = (value, path) =>
  fields(
    {
      provider: { required: true, check: string({ nonEmpty: true }) },
      text: { required: true, check: string() },
      signature: string(),
      redacted: string(),
    },
    { unknown: 'reject' },
  )(value, path) as unknown as ReasoningBlock;

/** Across fields: the budget must leave room for the answer. */
export function reasoningCrossFieldRules(request: ChatRequest): void {
  const budget = request.reasoning?.budgetTokens;
  if (budget !== undefined && request.maxTokens !== undefined && budget >= request.maxTokens) {
    fail('reasoning.budgetTokens', `must be below maxTokens (${request.maxTokens}): the thinking budget is part of the output tokens`);
  }
}

/**
 * Anthropic's `budget_tokens` and `max_tokens` for a request with `reasoning`. Without `maxTokens`
 * the answer keeps the target's default on top of the budget; an effort-derived budget is kept
 * below a given `maxTokens` (an explicit `budgetTokens` was checked against it already).
 */
export function thinkingBudget(reasoning: ReasoningOptions, maxTokens: number | undefined, defaultMaxTokens: number): { budgetTokens: number; maxTokens: number } {
  if (maxTokens === undefined) {
    const budgetTokens = reasoning.budgetTokens ?? BUDGET_OF_EFFORT[reasoning.effort ?? 'medium'];
    return { budgetTokens, maxTokens: budgetTokens + defaultMaxTokens };
  }
  const wanted = reasoning.budgetTokens ?? BUDGET_OF_EFFORT[reasoning.effort ?? 'medium'];
  return { budgetTokens: Math.max(MIN_BUDGET_TOKENS, Math.min(wanted, maxTokens - 1)), maxTokens };
}

/** OpenAI's `reasoning_effort` for a request with `reasoning` (a budget maps to the nearest effort). */
export function reasoningEffort(reasoning: ReasoningOptions): ReasoningEffort {
  if (reasoning.effort) return reasoning.effort;
  const budget = reasoning.budgetTokens;
  if (budget === undefined) return 'medium';
  return budget <= 2048 ? 'low' : budget <= 8192 ? 'medium' : 'high';
}

/**
 * The reasoning blocks of the conversation that `provider` does not get: blocks another provider
 * produced (thinking signatures are only valid where they were made). The adapters leave exactly
 * these out; the attempt reports them as a `bulwark.reasoning.dropped` event. Undefined when there are none.
 */
export function foreignReasoning(request: ChatRequest, provider: string): { blocks: number; providers: string[] } | undefined {
  let blocks = 0;
  // Built on every attempt, and almost always empty: nothing is allocated until a block is found.
  let providers: Set<string> | undefined;
  for (const m of request.messages) {
    // Defensive: this runs inside the attempt, where a broken message must fail in the adapter's
    // conversion (as Bulwark's own error), not here.
    if (m?.role !== 'assistant' || !Array.isArray(m.reasoning)) continue;
    for (const block of m.reasoning) {
      if (block.provider === provider) continue;
      blocks += 1;
      (providers ??= new Set()).add(block.provider);
    }
  }
  return providers && { blocks, providers: [...providers].sort() };
}

/** An assistant message's blocks that go back to `provider` (its own), in their original order. */
export function ownReasoning(blocks: readonly ReasoningBlock[] | undefined, provider: string): ReasoningBlock[] {
  return (blocks ?? []).filter((b) => b.provider === provider);
}
