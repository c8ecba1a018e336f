/**
 * Token estimates. Deliberately crude and predictable — ceil(characters / 4) — so a test can size a request to
 * land just above or below a model's context window.
 */

/** Characters per token used by every estimate. */
export const CHARS_PER_TOKEN = 4;

/** ceil(chars / 4) for a string; 0 for ''. */
export function estimateTextTokens(text: string): number {
  return Math.ceil(text.length / CHARS_PER_TOKEN);
}

/**
 * The input tokens the server attributes to a request body (any provider): ceil(total length of every
 * string value found in `messages`, `system` and `tools` — Gemini: `contents`, `systemInstruction` and
 * `tools` — recursively / 4), at least 1. An image or file part
 * counts as ATTACHMENT_CHARS (1600 tokens) whatever its size.
 */
export function estimateInputTokens(body: unknown): number {
  if (typeof body !== 'object' || body === null) return 1;
  const record = body as Record<string, unknown>;
  const chars =
    countChars(record['messages']) +
    countChars(record['system']) +
    countChars(record['tools']) +
    countChars(record['contents']) +
    countChars(record['systemInstruction']);
  return Math.max(1, Math.ceil(chars / CHARS_PER_TOKEN));
}

/** Content parts / blocks that carry an image or file: counted as a fixed size, not by their base64 length. */
const ATTACHMENT_TYPES = new Set(['image_url', 'file', 'image', 'document']);
/** ≈ 1600 tokens, what a ~1000×1000 image costs on either provider. */
export const ATTACHMENT_CHARS = 1_600 * CHARS_PER_TOKEN;

function countChars(value: unknown): number {
  if (typeof value === 'string') return value.length;
  if (Array.isArray(value)) return value.reduce<number>((sum, item) => sum + countChars(item), 0);
  if (typeof value === 'object' && value !== null) {
    const type = (value as Record<string, unknown>)['type'];
    if (typeof type === 'string' && ATTACHMENT_TYPES.has(type)) return ATTACHMENT_CHARS;
    let sum = 0;
    for (const item of Object.values(value)) sum += countChars(item);
    return sum;
  }
  return 0;
}
