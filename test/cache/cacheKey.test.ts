import { describe, expect, it } from 'vitest';
import { cacheKey, canonicalJson, requestDigest } from '../../src/cache/cacheKey.js';
import type { ChatRequest, ContentPart, ImagePart } from '../../src/request/types.js';

const REQUEST: ChatRequest = {
  messages: [
    { role: 'system', content: 'Be brief.' },
    { role: 'user', content: 'Summarise today' },
  ],
  tools: [{ name: 'search', description: 'Search the web', parameters: { type: 'object', properties: { q: { type: 'string' } } } }],
  toolChoice: 'auto',
  maxTokens: 256,
  temperature: 0.2,
  topP: 0.9,
  stop: ['END'],
};

const GOLDEN_RICH: ChatRequest = {
  messages: [
    { role: 'system', content: 'Be brief. "Quotes", \\ backslash, \n newline, ünïcödé, emoji 🎉' },
    {
      role: 'user',
      content: [
        { type: 'text', text: 'What is in this picture?' },
        { type: 'image', image: new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 1, 2, 3]) },
        { type: 'image', image: 'https://example.com/cat.jpg' },
      ],
    },
    { role: 'assistant', content: null, toolCalls: [{ id: 'call_1', name: 'search', arguments: '{"q":"cats"}' }] },
    { role: 'tool', toolCallId: 'call_1', content: 'Cats are mammals.' },
  ],
  tools: [{ name: 'search', description: 'Search the web', parameters: { type: 'object', properties: { q: { type: 'string' } }, required: ['q'] } }],
  toolChoice: { name: 'search' },
  maxTokens: 256,
  temperature: 0.2,
  topP: 0.9,
  stop: ['END'],
  parallelToolCalls: false,
  providerOptions: { openai: { logit_bias: { '50256': -100, '9': 5, '10': 1 }, user: 'u-1', seed: 7 } },
  responseFormat: { type: 'json', schema: { type: 'object', properties: { answer: { type: 'string' } } }, name: 'answer' },
  reasoning: { effort: 'low' },
};

/** The same object with its own keys in reverse order (JSON.parse's reviver keeps that order). */
function reverseKeys(value: unknown): unknown {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return value;
  return Object.fromEntries(Object.entries(value).reverse());
}

const KEY_SHAPE = /^bulwark:cache:support-agent:_:[0-9a-f]{64}$/;

describe('cacheKey', () => {
  it('is namespaced by chain and partition, ending in a sha256', () => {
    expect(cacheKey('support-agent', undefined, REQUEST)).toMatch(KEY_SHAPE);
    expect(cacheKey('support-agent', 'tenant-1', REQUEST)).toMatch(/^bulwark:cache:support-agent:tenant-1:[0-9a-f]{64}$/);
  });

  it('is stable: the same request gives the same key', () => {
    expect(cacheKey('c', undefined, REQUEST)).toBe(cacheKey('c', undefined, structuredClone(REQUEST)));
  });

  it('does not depend on property order, at any depth', () => {
    const reordered: ChatRequest = {
      stop: ['END'],
      topP: 0.9,
      temperature: 0.2,
      maxTokens: 256,
      toolChoice: 'auto',
      tools: [{ parameters: { properties: { q: { type: 'string' } }, type: 'object' }, description: 'Search the web', name: 'search' }],
      messages: [
        { content: 'Be brief.', role: 'system' },
        { content: 'Summarise today', role: 'user' },
      ],
    };
    expect(cacheKey('c', undefined, reordered)).toBe(cacheKey('c', undefined, REQUEST));
  });

  it('ignores per-call controls that do not change the answer', () => {
    const controlled: ChatRequest = {
      ...REQUEST,
      signal: new AbortController().signal,
      critical: true,
      maxCostUsd: 0.5,
      totalTimeoutMs: 10_000,
    };
    expect(cacheKey('c', undefined, controlled)).toBe(cacheKey('c', undefined, REQUEST));
  });

  it('changes with everything that determines the answer', () => {
    const base = cacheKey('c', undefined, REQUEST);
    const variants: ChatRequest[] = [
      { ...REQUEST, messages: [...REQUEST.messages, { role: 'user', content: 'more' }] },
      { ...REQUEST, messages: [{ role: 'user', content: 'Summarise today' }, { role: 'system', content: 'Be brief.' }] },
      { ...REQUEST, tools: undefined },
      { ...REQUEST, toolChoice: 'required' },
      { ...REQUEST, toolChoice: { name: 'search' } },
      { ...REQUEST, maxTokens: 257 },
      { ...REQUEST, temperature: 0.3 },
      { ...REQUEST, topP: 1 },
      { ...REQUEST, stop: ['STOP'] },
    ];
    const keys = variants.map((r) => cacheKey('c', undefined, r));
    for (const k of keys) expect(k).not.toBe(base);
    expect(new Set(keys).size).toBe(variants.length);
  });

  it('treats an absent field, an undefined one and an empty tools/stop list alike', () => {
    const bare: ChatRequest = { messages: [{ role: 'user', content: 'hi' }] };
    const padded: ChatRequest = { messages: [{ role: 'user', content: 'hi' }], tools: [], stop: [], temperature: undefined };
    expect(cacheKey('c', undefined, padded)).toBe(cacheKey('c', undefined, bare));
  });

  it('isolates partitions, including ones that look like separators or the no-partition marker', () => {
    const partitions = [undefined, '_', '', 'a', 'a:b', 'a%3Ab', 'a:b:c', 'tenant 1', 'ünï'];
    const keys = partitions.map((p) => cacheKey('c', p, REQUEST));
    expect(new Set(keys).size).toBe(partitions.length);
    for (const k of keys) expect(k.split(':')).toHaveLength(5);
  });

  it('hashes the partition too: the digest alone tells two tenants (or no tenant) apart', () => {
    const digests = [undefined, '_', '', 'a', 'b'].map((p) => cacheKey('c', p, REQUEST).split(':')[4]);
    expect(new Set(digests).size).toBe(5);
    expect(requestDigest('a', REQUEST)).toBe(cacheKey('c', 'a', REQUEST).split(':')[4]);
  });

  it('escapes separators and the no-partition marker, keeping ordinary names readable', () => {
    expect(cacheKey('c', 'a:b', REQUEST)).toMatch(/^bulwark:cache:c:a%3Ab:/);
    expect(cacheKey('c', '_', REQUEST)).toMatch(/^bulwark:cache:c:%5F:/);
    expect(cacheKey('c', 'my_tenant', REQUEST)).toMatch(/^bulwark:cache:c:my%5Ftenant:/);
  });

  it('cannot be confused by a chain name containing a colon', () => {
    expect(cacheKey('a:b', 'c', REQUEST)).not.toBe(cacheKey('a', 'b:c', REQUEST));
    expect(cacheKey('a:b', undefined, REQUEST).split(':')).toHaveLength(5);
  });

  it('isolates chains', () => {
    expect(cacheKey('one', 't', REQUEST)).not.toBe(cacheKey('two', 't', REQUEST));
  });
  // A fleet shares one store (Redis) across processes and releases: a key must not drift unless
  // KEY_VERSION is bumped. These are the keys computed by the release the form was fixed in.
  describe('golden keys (change only together with KEY_VERSION)', () => {
    it('a plain request, no partition', () => {
      const request: ChatRequest = { messages: [{ role: 'user', content: 'Say hello in five words.' }], maxTokens: 64 };
      expect(cacheKey('support-agent', undefined, request)).toBe('bulwark:cache:support-agent:_:ecfce3cf636c6320e87bda2741166b3b0373e03729ac0fe81220a847bf13e5df');
    });

    it('every determining field, escaped chain and partition, image bytes and URL, numeric-looking keys', () => {
      expect(cacheKey('support agent_v2', 'tenant:42_a', GOLDEN_RICH)).toBe(
        'bulwark:cache:support%20agent%5Fv2:tenant%3A42%5Fa:a99b7a4bf7a9b5361839624ba5f6fccdcd5793088b0921068c6a93719ffc6005',
      );
      // The same request written in another property order, at every depth.
      const reordered = JSON.parse(JSON.stringify(GOLDEN_RICH, (_k, v: unknown) => (v instanceof Uint8Array ? undefined : reverseKeys(v)))) as ChatRequest;
      const image = (GOLDEN_RICH.messages[1]!.content as ContentPart[])[1] as ImagePart;
      (reordered.messages[1]!.content as ContentPart[])[1] = { image: image.image, type: 'image' };
      expect(cacheKey('support agent_v2', 'tenant:42_a', reordered)).toBe(cacheKey('support agent_v2', 'tenant:42_a', GOLDEN_RICH));
    });

    it('sorts numeric-looking keys as strings, not in JavaScript\'s integer-first order', () => {
      expect(canonicalJson({ b: 1, '9': 1, '10': 2, '50256': 3, a: 0 })).toBe('{"10":2,"50256":3,"9":1,"a":0,"b":1}');
    });
  });
});

describe('canonicalJson', () => {
  it('sorts keys and follows JSON.stringify for everything else', () => {
    expect(canonicalJson({ b: 1, a: [3, undefined, () => 1], c: undefined, d: { z: null, y: Number.NaN } })).toBe(
      '{"a":[3,null,null],"b":1,"d":{"y":null,"z":null}}',
    );
  });

  it('escapes keys as JSON.stringify does, the first time and every later time', () => {
    const value = { 'a"b': 1, 'back\\slash': 2, 'new\nline': 3, ü: 4 };
    const expected = '{"a\\"b":1,"back\\\\slash":2,"new\\nline":3,"ü":4}';
    expect(canonicalJson(value)).toBe(expected);
    expect(canonicalJson(value)).toBe(expected);
    expect(JSON.parse(expected)).toEqual(value);
  });

  it('refuses circular structures', () => {
    const loop: Record<string, unknown> = {};
    loop.self = loop;
    expect(() => canonicalJson(loop)).toThrow(/circular/);
  });

  it('accepts the same object twice when it is not a cycle', () => {
    const shared = { x: 1 };
    expect(canonicalJson({ a: shared, b: shared })).toBe('{"a":{"x":1},"b":{"x":1}}');
  });
});
