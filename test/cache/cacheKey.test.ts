import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { cacheKey, canonicalForm, requestDigest } from '../../src/cache/cacheKey.js';
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
      expect(cacheKey('support-agent', undefined, request)).toBe('bulwark:cache:support-agent:_:35420f00393896d5067ee7035d4c9bff855fce8e9127209c7ff0515b1ca182d3');
      // The text behind that digest, written out: keys sorted, strings length-prefixed, the form's version last.
      const text = "{'9:maxTokens:64,'8:messages:[{'7:content:'24:Say hello in five words.,'4:role:'4:user}],'1:v:3}";
      expect(createHash('sha256').update(text, 'utf8').digest('hex')).toBe('35420f00393896d5067ee7035d4c9bff855fce8e9127209c7ff0515b1ca182d3');
    });

    it('every determining field, escaped chain and partition, image bytes and URL, numeric-looking keys', () => {
      expect(cacheKey('support agent_v2', 'tenant:42_a', GOLDEN_RICH)).toBe(
        'bulwark:cache:support%20agent%5Fv2:tenant%3A42%5Fa:c3e000f7b72f547cb241f1d8a59860a7005fdd6f5fb4254b4ac9d186f2c2054d',
      );
      // The same request written in another property order, at every depth.
      const reordered = JSON.parse(JSON.stringify(GOLDEN_RICH, (_k, v: unknown) => (v instanceof Uint8Array ? undefined : reverseKeys(v)))) as ChatRequest;
      const image = (GOLDEN_RICH.messages[1]!.content as ContentPart[])[1] as ImagePart;
      (reordered.messages[1]!.content as ContentPart[])[1] = { image: image.image, type: 'image' };
      expect(cacheKey('support agent_v2', 'tenant:42_a', reordered)).toBe(cacheKey('support agent_v2', 'tenant:42_a', GOLDEN_RICH));
    });

    it('sorts numeric-looking keys as strings, not in JavaScript\'s integer-first order', () => {
      expect(canonicalForm({ b: 1, '9': 1, '10': 2, '50256': 3, a: 0 })).toBe("{'2:10:2,'5:50256:3,'1:9:1,'1:a:0,'1:b:1}");
    });
  });
});

describe('canonicalForm', () => {
  it('sorts keys, writes strings with their length, and follows JSON.stringify for everything else', () => {
    expect(canonicalForm({ b: 1, a: [3, undefined, () => 1, 'x', true, 10n], c: undefined, d: { z: null, y: Number.NaN } })).toBe(
      "{'1:a:[3,null,null,'1:x,true,'2:10],'1:b:1,'1:d:{'1:y:null,'1:z:null}}",
    );
    expect(canonicalForm(new Date(0))).toBe(`'24:1970-01-01T00:00:00.000Z`);
  });

  it('writes any well-formed text as is, keys included, the first time and every later time', () => {
    const value = { 'a"b': 'new\nline', 'back\\slash': 'ü', "it's": '🎉' };
    const expected = `{'3:a"b:'8:new\nline,'10:back\\slash:'1:ü,'4:it's:'2:🎉}`;
    expect(canonicalForm(value)).toBe(expected);
    expect(canonicalForm(value)).toBe(expected);
  });

  it('cannot be fooled by text that looks like its own framing', () => {
    const pairs: Array<[unknown, unknown]> = [
      [['x', 'y'], ["x,'1:y"]],
      [{ a: 'b', c: 'd' }, { a: "b,'1:c:'1:d" }],
      [{ a: '1' }, { a: 1 }],
      [['null'], [null]],
    ];
    for (const [one, other] of pairs) expect(canonicalForm(one)).not.toBe(canonicalForm(other));
  });

  it('keeps lone surrogates apart (UTF-8 would make them all U+FFFD): written JSON-escaped', () => {
    const texts = ['a\ud800', 'a\ud801', 'a\udc00', 'a\ufffd'];
    expect(new Set(texts.map((t) => canonicalForm(t))).size).toBe(4);
    expect(canonicalForm('a\ud800')).toBe('"a\\ud800"');
    const digests = texts.map((t) => requestDigest(undefined, { messages: [{ role: 'user', content: t }] }));
    expect(new Set(digests).size).toBe(4);
  });

  it('refuses circular structures', () => {
    const loop: Record<string, unknown> = {};
    loop.self = loop;
    expect(() => canonicalForm(loop)).toThrow(/circular/);
  });

  it('accepts the same object twice when it is not a cycle', () => {
    const shared = { x: 1 };
    expect(canonicalForm({ a: shared, b: shared })).toBe("{'1:a:{'1:x:1},'1:b:{'1:x:1}}");
  });
});
