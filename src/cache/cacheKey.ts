import { createHash, hash } from 'node:crypto';
import { partMediaType, partSource, resolveSource } from '../request/contentParts.js';
import type { ChatRequest, ContentPart, Message } from '../request/types.js';

/**
 * Bumped whenever the canonical form changes, so old entries are simply never found again.
 * 2: the partition is hashed too, so the digest alone names an entry within a chain (the cache's
 * memory of its recent writes is keyed by it, with no key string built per request).
 * 3: strings are written length-prefixed instead of JSON-escaped (see canonicalForm): escaping
 * every prompt character cost more than hashing it.
 */
const KEY_VERSION = 3;

/**
 * The cache key of a request: `bulwark:cache:<chain>:<partition or _>:<sha256>`.
 *
 * The hash covers exactly what determines the answer — messages, tools, toolChoice,
 * maxTokens, temperature, topP, stop, parallelToolCalls, providerOptions, responseFormat,
 * reasoning — and the partition, in a canonical form (see canonicalForm: object keys sorted,
 * undefined fields dropped; empty `tools`/`stop` treated as absent), so property order never splits one request
 * into two entries. Other per-call controls (signal, critical, maxCostUsd, totalTimeoutMs) are
 * not part of it. Messages and tools are hashed whole, unknown fields included: serving a wrong
 * answer is worse than missing the cache.
 *
 * Chain and partition are percent-encoded (encodeURIComponent, plus '_'), so neither can
 * contain ':' and a partition named '_' cannot collide with "no partition".
 */
export function cacheKey(chain: string, partition: string | undefined, request: ChatRequest): string {
  return storeKey(keyPrefix(chain), partition, requestDigest(partition, request));
}

/** `bulwark:cache:<chain>:`, the part of every key of one chain (computed once per chain). */
export function keyPrefix(chain: string): string {
  return `bulwark:cache:${escapeSegment(chain)}:`;
}

/** The key of a request from its chain's `keyPrefix` and its `requestDigest`. */
export function storeKey(prefix: string, partition: string | undefined, digest: string): string {
  return `${prefix}${partition === undefined ? '_' : escapeSegment(partition)}:${digest}`;
}

/** The sha256 (hex) of the canonical form of what determines the answer, partition included. */
export function requestDigest(partition: string | undefined, request: ChatRequest): string {
  // Keys in sorted order, as canonicalForm writes them: it has nothing to sort then.
  const determining = {
    maxTokens: request.maxTokens,
    messages: request.messages.map(hashableMessage),
    parallelToolCalls: request.parallelToolCalls,
    partition,
    providerOptions: request.providerOptions,
    reasoning: request.reasoning,
    // A JSON answer to a schema is not the plain-text answer to the same messages, nor to another schema.
    responseFormat: request.responseFormat,
    stop: request.stop !== undefined && request.stop.length > 0 ? request.stop : undefined,
    temperature: request.temperature,
    toolChoice: request.toolChoice,
    tools: request.tools !== undefined && request.tools.length > 0 ? request.tools : undefined,
    topP: request.topP,
    v: KEY_VERSION,
  };
  // One-shot digest: no Hash object per request.
  return hash('sha256', canonicalForm(determining), 'hex');
}

/**
 * Image and file bytes are hashed by their digest (a 20 MB screenshot as a JSON array of numbers
 * would be a 70 MB string). A data URL and the same bytes given as a Uint8Array are the same input
 * and give the same key; a remote URL is its text.
 */
function hashableMessage(message: Message): unknown {
  if ((message.role !== 'user' && message.role !== 'tool') || typeof message.content === 'string') return message;
  return { ...message, content: message.content.map(hashablePart) };
}

function hashablePart(part: ContentPart): unknown {
  if (part.type === 'text') return part;
  const { image: _image, data: _data, ...rest } = part as ContentPart & { image?: unknown; data?: unknown };
  const source = resolveSource(partSource(part));
  const digest = source?.kind === 'bytes' ? { sha256: createHash('sha256').update(source.bytes).digest('hex') } : { url: source?.url ?? null };
  return { ...rest, source: digest, ...(source?.kind === 'bytes' && { mediaType: partMediaType(part, source) }) };
}

function escapeSegment(segment: string): string {
  // encodeURIComponent already escapes ':' and '%'; '_' is reserved for "no partition".
  return encodeURIComponent(segment).replaceAll('_', '%5F');
}

/**
 * The text hashed for a cache key: JSON's grammar with object keys in sorted order (UTF-16 code
 * units) at every depth, and otherwise JSON.stringify's rules — undefined, functions and symbols
 * are dropped from objects and become null in arrays; `toJSON` is honoured; non-finite numbers
 * become null; a bigint is written as its decimal string — except for strings (keys included):
 * a well-formed string is written `'<length>:<text>` (length in UTF-16 code units, text as is),
 * which needs no escaping pass over every character of a prompt and still says exactly where the
 * string ends. A string with a lone surrogate is written JSON-quoted (`"…"` with `\uXXXX`
 * escapes): UTF-8, in which the text is hashed, would turn every lone surrogate into U+FFFD, and
 * the leading `"` keeps it apart from the length-prefixed form.
 */
export function canonicalForm(value: unknown): string {
  return canonical(value, []) ?? 'null';
}

/**
 * Computed for every request the cache sees: one string grown in place (no array per level), the
 * keys sorted in place, and the objects being written (to refuse a cycle) on a stack rather than
 * in a Set.
 */
function canonical(value: unknown, ancestors: object[]): string | undefined {
  if (value !== null && typeof value === 'object' && typeof (value as { toJSON?: unknown }).toJSON === 'function') {
    value = (value as { toJSON: () => unknown }).toJSON();
  }
  switch (typeof value) {
    case 'string':
      return canonicalString(value);
    case 'number':
      return Number.isFinite(value) ? String(value) : 'null';
    case 'boolean':
      return value ? 'true' : 'false';
    case 'bigint':
      return canonicalString(value.toString());
    case 'undefined':
    case 'function':
    case 'symbol':
      return undefined;
  }
  if (value === null) return 'null';
  const obj = value as object;
  if (ancestors.includes(obj)) throw new TypeError('cacheKey: request contains a circular reference');
  ancestors.push(obj);
  let out: string;
  if (Array.isArray(obj)) {
    out = '[';
    for (let i = 0; i < obj.length; i++) {
      if (i > 0) out += ',';
      out += canonical(obj[i], ancestors) ?? 'null';
    }
    out += ']';
  } else {
    const keys = Object.keys(obj);
    sortInPlace(keys);
    out = '{';
    for (const key of keys) {
      const field = (obj as Record<string, unknown>)[key];
      // Most of a request's optional fields are absent: dropped without a call.
      if (field === undefined) continue;
      const item = canonical(field, ancestors);
      if (item === undefined) continue;
      if (out.length > 1) out += ',';
      out += canonicalKey(key);
      out += ':';
      out += item;
    }
    out += '}';
  }
  ancestors.pop();
  return out;
}

/** ES2024's `String.prototype.isWellFormed` (Node ≥ 20; the compiler's lib is ES2023). */
type WellFormedCheck = string & { isWellFormed(): boolean };

function canonicalString(value: string): string {
  return (value as WellFormedCheck).isWellFormed() ? `'${value.length}:${value}` : JSON.stringify(value);
}

/** Object keys as written, for the few names requests use over and over (role, content, type, …). */
const writtenKeys = new Map<string, string>();
/** Names beyond this are written each time: a request's keys are caller data, not a vocabulary to keep. */
const MAX_WRITTEN_KEYS = 1024;

/** `canonicalString(key)`, remembered: a Map lookup of a property name costs less than building it. */
function canonicalKey(key: string): string {
  let written = writtenKeys.get(key);
  if (written === undefined) {
    written = canonicalString(key);
    if (writtenKeys.size < MAX_WRITTEN_KEYS) writtenKeys.set(key, written);
  }
  return written;
}

/**
 * Insertion sort, in place (an object has a handful of keys, usually in order already):
 * Array.prototype.sort copies the array first, for every object of every request.
 */
function sortInPlace(keys: string[]): void {
  for (let i = 1; i < keys.length; i++) {
    const key = keys[i]!;
    let j = i - 1;
    for (; j >= 0 && keys[j]! > key; j--) keys[j + 1] = keys[j]!;
    keys[j + 1] = key;
  }
}
