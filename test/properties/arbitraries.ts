/**
 * Generators for the property tests: valid requests and configs, and one-field corruptions of them that
 * know which field they broke (so a test can check that the error names it).
 */
import fc from 'fast-check';
import type { ChatRequest, Message, ToolCall, ToolDefinition } from '../../src/request/types.js';

export const MAX_TIMER_MS = 2_147_483_647;
const ROLES = ['system', 'user', 'assistant', 'tool'];

const word = fc.stringMatching(/^[a-zA-Z][a-zA-Z0-9_]{0,11}$/);
const toolName = fc.stringMatching(/^[a-zA-Z0-9_-]{1,64}$/);
const text = fc.string({ maxLength: 30 });

/** A JSON schema-ish object: anything JSON, as a tool's `parameters`. */
export const jsonSchema: fc.Arbitrary<Record<string, unknown>> = fc.dictionary(word, fc.jsonValue({ maxDepth: 3 }), { maxKeys: 4 });

const toolCall: fc.Arbitrary<ToolCall> = fc.record({ id: word, name: toolName, arguments: fc.json({ maxDepth: 2 }) });

const turn: fc.Arbitrary<Message[]> = fc.oneof(
  text.map((content): Message[] => [{ role: 'user', content }]),
  fc.string({ minLength: 1, maxLength: 30 }).map((content): Message[] => [{ role: 'assistant', content }]),
  fc.uniqueArray(toolCall, { minLength: 1, maxLength: 3, selector: (c) => c.id }).map((calls): Message[] => [
    { role: 'assistant', content: null, toolCalls: calls },
    ...calls.map((c): Message => ({ role: 'tool', toolCallId: c.id, content: 'result' })),
  ]),
);

const messages: fc.Arbitrary<Message[]> = fc
  .tuple(fc.option(text, { nil: undefined }), text, fc.array(turn, { maxLength: 4 }))
  .map(([system, first, turns]) => [...(system !== undefined ? [{ role: 'system' as const, content: system }] : []), { role: 'user' as const, content: first }, ...turns.flat()]);

const tools: fc.Arbitrary<ToolDefinition[]> = fc.uniqueArray(
  fc.record({ name: toolName, description: fc.option(text, { nil: undefined }), parameters: jsonSchema }, { requiredKeys: ['name', 'parameters'] }),
  { maxLength: 3, selector: (t) => t.name },
);

/** A request every provider could take. */
export const validRequest: fc.Arbitrary<ChatRequest> = fc
  .record(
    {
      messages,
      tools,
      choice: fc.nat(),
      maxTokens: fc.integer({ min: 1, max: 1_000_000 }),
      temperature: fc.double({ min: 0, max: 2, noNaN: true }),
      topP: fc.double({ min: Number.MIN_VALUE, max: 1, noNaN: true }),
      stop: fc.array(fc.string({ minLength: 1, maxLength: 5 }), { maxLength: 4 }),
      partition: fc.string({ maxLength: 12 }),
      critical: fc.boolean(),
      maxCostUsd: fc.double({ min: 0, max: 1_000, noNaN: true }),
      totalTimeoutMs: fc.integer({ min: 1, max: MAX_TIMER_MS }),
      signal: fc.constant(true),
    },
    { requiredKeys: ['messages'] },
  )
  .map(({ choice, signal, ...r }) => {
    const request: ChatRequest = { ...r };
    if (signal) request.signal = new AbortController().signal;
    if (choice !== undefined) {
      const named = r.tools && r.tools.length > 0 ? [{ name: r.tools[choice % r.tools.length]!.name }] : [];
      request.toolChoice = ([...(['auto', 'none', 'required'] as const), ...named] as ChatRequest['toolChoice'][])[choice % (3 + named.length)];
    }
    return request;
  });

/** A deep copy that a corruption may mutate (fast-check may hand the same value to several runs). */
export function copyRequest(r: ChatRequest): ChatRequest {
  const out: ChatRequest = {
    ...r,
    messages: r.messages.map((m) => (m.role === 'assistant' && m.toolCalls ? { ...m, toolCalls: m.toolCalls.map((c) => ({ ...c })) } : { ...m })),
  };
  if (r.tools) out.tools = r.tools.map((t) => ({ ...t, parameters: structuredClone(t.parameters) }));
  if (r.stop) out.stop = [...r.stop];
  return out;
}

/** A corruption of one field: what to do to a (copied) request, and the path the error must name. */
export interface Corruption {
  what: string;
  path: (request: ChatRequest) => string;
  apply: (request: ChatRequest) => void;
}

const notNumber = fc.oneof(fc.string(), fc.boolean(), fc.constant(null), fc.object({ maxDepth: 1 }), fc.bigInt(), fc.array(fc.integer(), { maxLength: 2 }));
const notString = fc.oneof(fc.integer(), fc.double(), fc.boolean(), fc.constant(null), fc.object({ maxDepth: 1 }), fc.array(fc.string(), { maxLength: 2 }));
const notBoolean = fc.oneof(fc.integer(), fc.string(), fc.constant(null), fc.object({ maxDepth: 1 }));
const notArray = fc.oneof(fc.string(), fc.integer(), fc.constant(null), fc.object({ maxDepth: 1 }), fc.boolean());
const badNumber = (valid: (v: number) => boolean) => fc.oneof(fc.double().filter((v) => !valid(v)), notNumber);

/** Invalid values for each optional top-level field. */
const BAD_FIELD_VALUES: Record<string, fc.Arbitrary<unknown>> = {
  maxTokens: badNumber((v) => Number.isSafeInteger(v) && v > 0),
  temperature: badNumber((v) => v >= 0 && v <= 2),
  topP: badNumber((v) => v > 0 && v <= 1),
  maxCostUsd: badNumber((v) => Number.isFinite(v) && v >= 0),
  totalTimeoutMs: badNumber((v) => Number.isFinite(v) && v > 0 && v <= MAX_TIMER_MS),
  partition: notString,
  critical: notBoolean,
  signal: fc.oneof(
    fc.constant('fake').map(() => Object.create(AbortSignal.prototype) as unknown),
    fc.constant({ aborted: false, reason: undefined, addEventListener() {}, removeEventListener() {} }),
    fc.string(),
    fc.object({ maxDepth: 1 }),
  ),
  stop: fc.oneof(notArray, fc.array(fc.oneof(fc.constant(''), fc.integer(), fc.constant(null)), { minLength: 1, maxLength: 3 })),
  toolChoice: fc.oneof(fc.string().filter((s) => !['auto', 'none', 'required'].includes(s)), fc.integer(), fc.constant(null)),
  tools: notArray,
  messages: fc.oneof(notArray, fc.constant([])),
};

const topLevel: fc.Arbitrary<Corruption> = fc.constantFrom(...Object.keys(BAD_FIELD_VALUES)).chain((field) =>
  BAD_FIELD_VALUES[field]!.map((value) => ({
    what: `${field} = ${typeof value}`,
    path: () => field,
    apply: (r: ChatRequest) => void ((r as unknown as Record<string, unknown>)[field] = value),
  })),
);

/** The arrays of a request that can hold a hole or a null; a missing one is created with two items. */
type ArraySite = 'messages' | 'stop' | 'tools' | 'toolCalls';
function arrayAt(r: ChatRequest, site: ArraySite): { array: unknown[]; path: string } {
  switch (site) {
    case 'messages':
      return { array: r.messages, path: 'messages' };
    case 'stop':
      r.stop ??= ['a', 'b'];
      return { array: r.stop, path: 'stop' };
    case 'tools':
      r.tools ??= [];
      return { array: r.tools, path: 'tools' };
    case 'toolCalls': {
      const i = r.messages.findIndex((m) => m.role === 'assistant' && m.toolCalls && m.toolCalls.length > 0);
      if (i < 0) return arrayAt(r, 'messages');
      return { array: (r.messages[i] as { toolCalls: unknown[] }).toolCalls, path: `messages[${i}].toolCalls` };
    }
  }
}

const holeOrNull: fc.Arbitrary<Corruption> = fc
  .tuple(fc.constantFrom<ArraySite>('messages', 'stop', 'tools', 'toolCalls'), fc.nat(), fc.boolean())
  .map(([site, k, hole]) => {
    let path = '';
    return {
      what: `${hole ? 'a hole' : 'null'} in ${site}`,
      path: () => path,
      apply: (r: ChatRequest) => {
        const { array, path: at } = arrayAt(r, site);
        const index = k % (array.length + 1);
        if (hole) {
          if (index === array.length) array.length += 1;
          else delete array[index];
        } else array[index] = null;
        path = `${at}[${index}]`;
      },
    };
  });

/** Values a JSON schema may not hold: each would make JSON.stringify throw, or change what is sent. */
const UNSERIALIZABLE: Array<[string, (root: Record<string, unknown>) => unknown]> = [
  ['a cycle', (root) => root],
  ['a BigInt', () => 10n],
  ['a function', () => () => 1],
  ['a symbol', () => Symbol('s')],
  ['NaN', () => Number.NaN],
  ['Infinity', () => Number.POSITIVE_INFINITY],
  ['undefined in an array', () => [undefined]],
  ['a hole in an array', () => [, 1]],
  ['a Map', () => new Map([['a', 1]])],
  ['a Date', () => new Date(0)],
];

const badParameters: fc.Arbitrary<Corruption> = fc
  .tuple(fc.nat(), fc.nat(), fc.integer({ min: 0, max: UNSERIALIZABLE.length - 1 }), word)
  .map(([toolIndex, depth, kind, key]) => {
    let path = '';
    return {
      what: `${UNSERIALIZABLE[kind]![0]} in a tool schema`,
      path: () => path,
      apply: (r: ChatRequest) => {
        if (!r.tools || r.tools.length === 0) r.tools = [{ name: 'lookup', parameters: { type: 'object' } }];
        const i = toolIndex % r.tools.length;
        const root = r.tools[i]!.parameters;
        // Walk down a few plain objects of the schema, then plant the value there.
        let node = root;
        for (let d = 0; d < depth % 3; d++) {
          const next = Object.values(node).find((v): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v));
          if (!next) break;
          node = next;
        }
        node[`x${key}`] = UNSERIALIZABLE[kind]![1](root);
        path = `tools[${i}].parameters`;
      },
    };
  });

const badMessage: fc.Arbitrary<Corruption> = fc
  .tuple(fc.nat(), fc.oneof(fc.string().filter((s) => !ROLES.includes(s)), notString), fc.constantFrom('role', 'content', 'shape'))
  .map(([k, value, part]) => {
    let path = '';
    return {
      what: `messages[…].${part}`,
      path: () => path,
      apply: (r: ChatRequest) => {
        const i = k % r.messages.length;
        const m = r.messages[i] as unknown as Record<string, unknown>;
        path = `messages[${i}]`;
        if (part === 'role') m.role = value;
        else if (part === 'content') {
          if (m.role === 'assistant') m.content = typeof value === 'string' ? 5 : value === null ? 5 : value;
          else m.content = typeof value === 'string' ? 5 : value;
        } else {
          // A shape no role allows: an assistant message with nothing in it, or a tool result answering nothing.
          r.messages[i] = { role: 'tool', toolCallId: `never-called-${k}`, content: 'x' };
        }
      },
    };
  });

/** One corruption of a valid request, anywhere. */
export const corruption: fc.Arbitrary<Corruption> = fc.oneof(topLevel, holeOrNull, badParameters, badMessage);
