/**
 * The SSE a front writes follows its provider's event grammar, checked frame by frame for several
 * answers (text, tool calls, both, a degraded static reply), and held to golden files for one answer
 * (ids, timestamps and cost normalised). The raw bytes come from bulwarkFetch, no SDK in between.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { bulwarkFetch, type FrontName } from '../../src/fronts/index.js';
import { fault, startFaultServer, type FaultServer, type Reply } from '../../src/testing/index.js';
import { threeTargetChain } from '../integration/setup.js';

let server: FaultServer;
beforeAll(async () => {
  server = await startFaultServer({ seed: 134 });
});
afterAll(() => server.close());
beforeEach(() => server.reset());

interface Frame {
  event?: string;
  data?: string;
  comment?: string;
}

function frames(body: string): Frame[] {
  expect(body.endsWith('\n\n')).toBe(true);
  return body
    .slice(0, -2)
    .split('\n\n')
    .map((block) => {
      const frame: Frame = {};
      for (const line of block.split('\n')) {
        if (line.startsWith(':')) frame.comment = line.slice(1).trim();
        else if (line.startsWith('event: ')) frame.event = line.slice(7);
        else if (line.startsWith('data: ')) frame.data = line.slice(6);
        else throw new Error(`not an SSE line: ${line}`);
      }
      return frame;
    });
}

const scenarios: Array<[string, Reply]> = [
  ['text', { text: 'Hello there, how are you today?' }],
  ['tool calls', { toolCalls: [{ id: 'call_1', name: 'get_weather', arguments: { city: 'Paris' } }, { id: 'call_2', name: 'get_time', arguments: { city: 'Oslo', tz: true } }] }],
  ['text and a tool call', { text: 'Let me check that.', toolCalls: [{ id: 'call_3', name: 'get_weather', arguments: { city: 'Rome' } }] }],
];

async function sse(front: FrontName, reply: Reply | 'static'): Promise<string> {
  const { llm } = threeTargetChain(server, { retry: { maxAttempts: 1 }, degrade: { staticReply: 'Temporarily unavailable.' } });
  if (reply === 'static') for (const route of ['primary', 'backup', 'local']) server.script({ route }, { then: fault.serverError(500) });
  else server.script({ route: 'primary' }, { then: fault.ok(reply) });
  const tools = [{ type: 'function', function: { name: 'get_weather', parameters: { type: 'object' } } }, { type: 'function', function: { name: 'get_time', parameters: { type: 'object' } } }];
  const body =
    front === 'openai'
      ? { model: 'gpt-4o', messages: [{ role: 'user', content: 'Hi' }], tools, stream: true, stream_options: { include_usage: true } }
      : { model: 'claude-sonnet-4-6', max_tokens: 100, messages: [{ role: 'user', content: 'Hi' }], tools: tools.map((t) => ({ name: t.function.name, input_schema: t.function.parameters })), stream: true };
  const path = front === 'openai' ? 'https://api.openai.com/v1/chat/completions' : 'https://api.anthropic.com/v1/messages';
  const res = await bulwarkFetch(llm, { front })(path, { method: 'POST', body: JSON.stringify(body) });
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
  return res.text();
}

/** OpenAI: chunk* (role first; tool call id+name once per index, then arguments), finish chunk, usage chunk, comment, [DONE]. */
function checkOpenAI(body: string, reply: Reply | 'static') {
  const all = frames(body);
  expect(all.at(-1)).toEqual({ data: '[DONE]' });
  expect(all.at(-2)!.comment).toMatch(/^x-bulwark-tier=\w+; x-bulwark-attempts=\d+; x-bulwark-target=\S+; x-bulwark-cost-usd=[\d.e-]+; x-bulwark-fallback=(true|false)$/);
  const chunks = all.slice(0, -2).map((f) => {
    expect(f.event).toBeUndefined();
    return JSON.parse(f.data!) as { id: string; object: string; choices: Array<{ index: number; delta: Record<string, unknown>; finish_reason: string | null }>; usage: unknown };
  });
  expect(new Set(chunks.map((c) => c.id)).size).toBe(1);
  expect(chunks.every((c) => c.object === 'chat.completion.chunk')).toBe(true);
  const usage = chunks.at(-1)!;
  expect(usage.choices).toEqual([]);
  expect(usage.usage).toMatchObject({ prompt_tokens: expect.any(Number), completion_tokens: expect.any(Number) });
  const body_ = chunks.slice(0, -1);
  expect(body_.every((c) => c.usage === null && c.choices.length === 1 && c.choices[0]!.index === 0)).toBe(true);
  expect(body_[0]!.choices[0]!.delta).toMatchObject({ role: 'assistant' });
  const finish = body_.at(-1)!.choices[0]!;
  expect(finish.delta).toEqual({});
  expect(finish.finish_reason).toBe(reply !== 'static' && reply.toolCalls ? 'tool_calls' : 'stop');
  expect(body_.slice(0, -1).every((c) => c.choices[0]!.finish_reason === null)).toBe(true);
  const seen = new Map<number, { id: string; name: string; args: string }>();
  let text = '';
  for (const c of body_.slice(1, -1)) {
    const delta = c.choices[0]!.delta as { content?: string; tool_calls?: Array<{ index: number; id?: string; type?: string; function: { name?: string; arguments: string } }> };
    if (delta.content !== undefined) text += delta.content;
    for (const call of delta.tool_calls ?? []) {
      const known = seen.get(call.index);
      if (known) {
        expect(Object.keys(call).sort()).toEqual(['function', 'index']);
        known.args += call.function.arguments;
      } else {
        expect(call).toMatchObject({ id: expect.any(String), type: 'function', function: { name: expect.any(String) } });
        seen.set(call.index, { id: call.id!, name: call.function.name!, args: call.function.arguments });
      }
    }
  }
  const expected = reply === 'static' ? { text: 'Temporarily unavailable.', calls: [] } : { text: reply.text ?? '', calls: (reply.toolCalls ?? []).map((t) => ({ id: t.id!, name: t.name, args: JSON.stringify(t.arguments) })) };
  expect(text).toBe(expected.text);
  expect([...seen.entries()].sort(([a], [b]) => a - b).map(([, v]) => v)).toEqual(expected.calls);
}

/** Anthropic: message_start (content_block_start delta* content_block_stop)* message_delta message_stop, then the comment. */
function checkAnthropic(body: string, reply: Reply | 'static') {
  const all = frames(body);
  expect(all.at(-1)!.comment).toMatch(/^x-bulwark-tier=/);
  const events = all.slice(0, -1).map((f) => {
    const data = JSON.parse(f.data!) as { type: string; index?: number; content_block?: { type: string; id?: string; name?: string; text?: string }; delta?: { type?: string; text?: string; partial_json?: string; stop_reason?: string } };
    expect(f.event).toBe(data.type);
    return data;
  });
  const grammar = /^message_start( content_block_start( content_block_delta)* content_block_stop)* message_delta message_stop$/;
  expect(events.map((e) => e.type).join(' ')).toMatch(grammar);
  let open: { index: number; type: string } | undefined;
  let next = 0;
  let text = '';
  const calls: Array<{ id: string; name: string; args: string }> = [];
  for (const e of events) {
    if (e.type === 'content_block_start') {
      expect(e.index).toBe(next++);
      open = { index: e.index!, type: e.content_block!.type };
      if (open.type === 'tool_use') calls.push({ id: e.content_block!.id!, name: e.content_block!.name!, args: '' });
      else expect(e.content_block).toEqual({ type: 'text', text: '' });
    } else if (e.type === 'content_block_delta') {
      expect(e.index).toBe(open!.index);
      expect(e.delta!.type).toBe(open!.type === 'text' ? 'text_delta' : 'input_json_delta');
      if (open!.type === 'text') text += e.delta!.text;
      else calls.at(-1)!.args += e.delta!.partial_json;
    } else if (e.type === 'content_block_stop') {
      expect(e.index).toBe(open!.index);
      open = undefined;
    }
  }
  const delta = events.at(-2)!;
  expect(delta.delta!.stop_reason).toBe(reply !== 'static' && reply.toolCalls ? 'tool_use' : 'end_turn');
  expect((delta as { usage?: unknown }).usage).toMatchObject({ input_tokens: expect.any(Number), output_tokens: expect.any(Number) });
  const expected = reply === 'static' ? { text: 'Temporarily unavailable.', calls: [] } : { text: reply.text ?? '', calls: (reply.toolCalls ?? []).map((t) => ({ id: t.id!, name: t.name, args: JSON.stringify(t.arguments) })) };
  expect(text).toBe(expected.text);
  expect(calls).toEqual(expected.calls);
}

const all: Array<[string, Reply | 'static']> = [...scenarios, ['a degraded static reply', 'static']];

describe('SSE grammar', () => {
  it.each(all)('OpenAI chat.completion.chunk stream: %s', async (_, reply) => checkOpenAI(await sse('openai', reply), reply));
  it.each(all)('Anthropic Messages event stream: %s', async (_, reply) => checkAnthropic(await sse('anthropic', reply), reply));
});

/** Ids, timestamps and the cost figure vary per run; everything else is the golden file. */
function normalise(body: string): string {
  return body
    .replace(/chatcmpl-[0-9a-f]{32}/g, 'chatcmpl-ID')
    .replace(/msg_[0-9a-f]{32}/g, 'msg_ID')
    .replace(/"created":\d+/g, '"created":0')
    .replace(/x-bulwark-cost-usd=[\d.e-]+/g, 'x-bulwark-cost-usd=COST');
}

describe('SSE golden files', () => {
  it.each(['openai', 'anthropic'] as const)('%s: text and a tool call', async (front) => {
    const body = normalise(await sse(front, scenarios[2]![1]));
    await expect(body).toMatchFileSnapshot(`golden/${front}-text-and-tool.sse`);
  });
});
