import type { ChatResult } from '../request/types.js';

/** Bulwark's facts about an answer, as response headers (and, on streams, a closing SSE comment). */
export function factHeaders(result: ChatResult): Record<string, string> {
  return {
    'x-bulwark-tier': result.tier,
    'x-bulwark-attempts': String(result.attempts.length),
    'x-bulwark-target': `${result.target.provider}/${result.target.model}`,
    'x-bulwark-cost-usd': String(result.costUsd),
    'x-bulwark-fallback': String(result.fallbackUsed),
  };
}

/**
 * A streamed response's headers leave before the chain knows who answers, so the facts close the
 * stream as an SSE comment line, which every SSE parser skips: `: x-bulwark-tier=full; …`.
 */
export function factComment(result: ChatResult): string {
  const parts = Object.entries(factHeaders(result)).map(([k, v]) => `${k}=${v}`);
  return `: ${parts.join('; ')}\n\n`;
}
