/**
 * Request fidelity through the wire fronts (issue 12's fields as each provider's clients send them):
 * images, files, the developer role and parallel tool calls, translated by one front and arriving
 * at a target of the other provider in that provider's own shape.
 */
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { bulwarkFetch } from '../../src/fronts/index.js';
import { fault, startFaultServer, type FaultServer } from '../../src/testing/index.js';
import { threeTargetChain } from '../integration/setup.js';

// A real 1×1 PNG and a minimal PDF.
const PNG = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==';
const PDF = Buffer.from('%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n').toString('base64');

let server: FaultServer;
beforeAll(async () => {
  server = await startFaultServer({ seed: 135 });
});
afterAll(() => server.close());
beforeEach(() => server.reset());

const body = (route: string) => server.requests.find((r) => r.route === route)!.body as Record<string, any>;
const tool = { type: 'function' as const, function: { name: 'lookup', parameters: { type: 'object', properties: {} } } };

describe('OpenAI front → Anthropic target', () => {
  it('image_url and file parts, the developer role and parallel_tool_calls: false arrive in Anthropic’s shape', async () => {
    const { llm } = threeTargetChain(server, { retry: { maxAttempts: 1 } });
    const openai = new OpenAI({ apiKey: 'unused', fetch: bulwarkFetch(llm) });
    server.script({ route: 'primary' }, { then: fault.serverError(500) });
    const res = await openai.chat.completions.create({
      model: 'gpt-4o',
      messages: [
        { role: 'developer', content: 'You review documents.' },
        {
          role: 'user',
          content: [
            { type: 'text', text: 'Does the picture match the report?' },
            { type: 'image_url', image_url: { url: `data:image/png;base64,${PNG}`, detail: 'auto' } },
            { type: 'file', file: { file_data: `data:application/pdf;base64,${PDF}`, filename: 'report.pdf' } },
          ],
        },
      ],
      tools: [tool],
      parallel_tool_calls: false,
    });
    expect(res.choices[0]!.message.content).toEqual(expect.any(String));
    const sent = body('backup');
    expect(sent['system']).toBe('You review documents.');
    expect(sent['messages'][0].content).toMatchObject([
      { type: 'text', text: 'Does the picture match the report?' },
      { type: 'image', source: { type: 'base64', media_type: 'image/png', data: PNG } },
      { type: 'document', source: { type: 'base64', media_type: 'application/pdf', data: PDF } },
    ]);
    expect(sent['tool_choice']).toMatchObject({ disable_parallel_tool_use: true });
    expect(body('primary')['parallel_tool_calls']).toBe(false);
    expect(body('primary')['messages'][0]).toEqual({ role: 'system', content: 'You review documents.' });
  });

  it.each([
    ['image detail', { type: 'image_url', image_url: { url: `data:image/png;base64,${PNG}`, detail: 'high' } }, 'messages[0].content[0].image_url.detail'],
    ['an uploaded file id', { type: 'file', file: { file_id: 'file-abc' } }, 'messages[0].content[0].file.file_id'],
    ['audio', { type: 'input_audio', input_audio: { data: 'AAAA', format: 'wav' } }, 'messages[0].content[0].type'],
  ])('%s is refused with a 400 naming the field', async (_, part, param) => {
    const { llm } = threeTargetChain(server);
    const openai = new OpenAI({ apiKey: 'unused', fetch: bulwarkFetch(llm) });
    const error = await openai.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: [part] }] } as unknown as OpenAI.ChatCompletionCreateParamsNonStreaming).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    expect(error).toMatchObject({ param });
    expect(server.requests).toHaveLength(0);
  });
});

describe('Anthropic front → OpenAI target', () => {
  it('image and document blocks (in a turn and in a tool result) and disable_parallel_tool_use arrive in OpenAI’s shape', async () => {
    const { llm } = threeTargetChain(server, { retry: { maxAttempts: 1 } });
    const anthropic = new Anthropic({ apiKey: 'unused', fetch: bulwarkFetch(llm, { front: 'anthropic' }) });
    await anthropic.messages.create({
      model: 'claude-sonnet-4-6',
      max_tokens: 100,
      tools: [{ name: 'screenshot', input_schema: { type: 'object', properties: {} } }],
      tool_choice: { type: 'auto', disable_parallel_tool_use: true },
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'Compare these.' },
            { type: 'image', source: { type: 'base64', media_type: 'image/png', data: PNG } },
            { type: 'document', source: { type: 'base64', media_type: 'application/pdf', data: PDF } },
          ],
        },
        { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_s', name: 'screenshot', input: {} }] },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_s', content: [{ type: 'text', text: 'Page 2:' }, { type: 'image', source: { type: 'base64', media_type: 'image/png', data: PNG } }] }] },
      ],
    });
    const sent = body('primary');
    expect(sent['parallel_tool_calls']).toBe(false);
    expect(sent['messages'][0].content).toMatchObject([
      { type: 'text', text: 'Compare these.' },
      { type: 'image_url', image_url: { url: `data:image/png;base64,${PNG}` } },
      { type: 'file', file: { file_data: `data:application/pdf;base64,${PDF}` } },
    ]);
    expect(JSON.stringify(sent['messages'].slice(2))).toContain(PNG);
  });

  it.each([
    ['a file-id source', { type: 'image', source: { type: 'file', file_id: 'file_1' } }, 'messages[0].content[0].source.type'],
    ['document citations', { type: 'document', source: { type: 'base64', media_type: 'application/pdf', data: PDF }, citations: { enabled: true } }, 'messages[0].content[0].citations'],
  ])('%s is refused with a 400 naming the field', async (_, block, param) => {
    const { llm } = threeTargetChain(server);
    const anthropic = new Anthropic({ apiKey: 'unused', fetch: bulwarkFetch(llm, { front: 'anthropic' }) });
    const error = await anthropic.messages.create({ model: 'm', max_tokens: 10, messages: [{ role: 'user', content: [block] }] } as unknown as Anthropic.MessageCreateParamsNonStreaming).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Anthropic.BadRequestError);
    expect((error as Error).message).toContain(param);
    expect(server.requests).toHaveLength(0);
  });
});
