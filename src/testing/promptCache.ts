/**
 * The fault server's stand-in for Anthropic's prompt cache, so `cache_control` breakpoints have a visible
 * effect: the prompt prefix up to each breakpoint (tools, then system, then messages, as Anthropic orders
 * the cache) is remembered; a later request whose prefix matches one reads it from the cache, and the rest
 * up to its last breakpoint is written. Tokens are estimated as everywhere in the server (ceil(chars / 4)).
 * A script's own `usage.cacheReadTokens` / `cacheWriteTokens` win over this.
 */
import { createHash } from 'node:crypto';
import { estimateInputTokens } from './tokens.js';

type Loose = Record<string, unknown>;
const isObj = (v: unknown): v is Loose => v !== null && typeof v === 'object' && !Array.isArray(v);

/** The blocks of a request in cache order, each with whether it carries a breakpoint. */
function cacheOrder(body: Loose): unknown[] {
  const items: unknown[] = [];
  if (Array.isArray(body['tools'])) items.push(...body['tools']);
  const system = body['system'];
  if (Array.isArray(system)) items.push(...system);
  else if (typeof system === 'string') items.push(system);
  for (const message of Array.isArray(body['messages']) ? body['messages'] : []) {
    const content = isObj(message) ? message['content'] : undefined;
    if (Array.isArray(content)) items.push(...content.map((block) => ({ role: message['role'], block })));
    else items.push(message);
  }
  return items;
}

const hasBreakpoint = (item: unknown): boolean => {
  const block = isObj(item) && isObj(item['block']) ? item['block'] : item;
  return isObj(block) && isObj(block['cache_control']);
};

export class PromptCacheSimulation {
  #seen = new Set<string>();

  /** Cache reads and writes for an Anthropic request body; undefined when it has no breakpoint. */
  usage(model: string, body: Loose): { read: number; write: number } | undefined {
    const items = cacheOrder(body);
    const ends = items.flatMap((item, i) => (hasBreakpoint(item) ? [i + 1] : []));
    if (ends.length === 0) return undefined;
    let read = 0;
    let last = 0;
    for (const end of ends) {
      const prefix = items.slice(0, end);
      const key = createHash('sha256').update(model).update(JSON.stringify(prefix)).digest('hex');
      const tokens = estimateInputTokens({ messages: prefix });
      if (this.#seen.has(key)) read = tokens;
      else this.#seen.add(key);
      last = tokens;
    }
    return { read, write: Math.max(0, last - read) };
  }

  clear(): void {
    this.#seen.clear();
  }
}
