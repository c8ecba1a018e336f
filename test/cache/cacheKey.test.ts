import { describe, expect, it } from 'vitest';
import { cacheKey, canonicalJson } from '../../src/cache/cacheKey.js';
import type { ChatRequest } from '../../src/request/types.js';

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
});

describe('canonicalJson', () => {
  it('sorts keys and follows JSON.stringify for everything else', () => {
    expect(canonicalJson({ b: 1, a: [3, undefined, () => 1], c: undefined, d: { z: null, y: Number.NaN } })).toBe(
      '{"a":[3,null,null],"b":1,"d":{"y":null,"z":null}}',
    );
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
