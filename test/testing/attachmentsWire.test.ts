/**
 * The fault server checks images, files and documents the way each provider does (a 400 naming the
 * parameter) and echoes what it received, through the official clients.
 */
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { fault, startFaultServer } from '../../src/testing/index.js';
import type { FaultServer, InputSummary } from '../../src/testing/index.js';

const PNG_B64 = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==';
const PNG_BYTES = Buffer.from(PNG_B64, 'base64').length;
const PDF_B64 = Buffer.from('%PDF-1.4\n%%EOF\n').toString('base64');

let server: FaultServer;
let openai: OpenAI;
let anthropic: Anthropic;

beforeAll(async () => {
  server = await startFaultServer({ seed: 1 });
  openai = new OpenAI({ apiKey: 'sk-test', baseURL: server.baseURL('openai'), maxRetries: 0 });
  anthropic = new Anthropic({ apiKey: 'sk-ant-test', baseURL: server.baseURL('anthropic'), maxRetries: 0 });
});
afterAll(() => server.close());
beforeEach(() => server.reset());

async function rejection(call: () => Promise<unknown>): Promise<any> {
  try {
    await call();
  } catch (error) {
    return error;
  }
  throw new Error('expected a 400');
}

describe('OpenAI wire: image_url and file parts', () => {
  it('echoes the images and files it received and the body fields (provider options show up there)', async () => {
    server.script({ sequence: [fault.ok({ echo: true })] });
    const res = await openai.chat.completions.create({
      model: 'gpt-4o',
      seed: 7,
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'look' },
            { type: 'image_url', image_url: { url: `data:image/png;base64,${PNG_B64}` } },
            { type: 'image_url', image_url: { url: 'https://example.com/a.jpg' } },
            { type: 'file', file: { file_data: `data:application/pdf;base64,${PDF_B64}`, filename: 'a.pdf' } },
          ],
        },
      ],
    });
    const summary = JSON.parse(res.choices[0]!.message.content!) as InputSummary;
    expect(summary.attachments).toEqual([
      { message: 0, kind: 'image', source: 'base64', mediaType: 'image/png', bytes: PNG_BYTES },
      { message: 0, kind: 'image', source: 'url', url: 'https://example.com/a.jpg' },
      { message: 0, kind: 'file', source: 'base64', mediaType: 'application/pdf', bytes: 15, filename: 'a.pdf' },
    ]);
    expect(summary.fields).toEqual(['messages', 'model', 'seed']);
  });

  it.each([
    ['an image that is not the type its data URL says', { type: 'image_url', image_url: { url: `data:image/jpeg;base64,${PNG_B64}` } }, 'messages[0].content[0].image_url.url'],
    ['an image URL that is neither http(s) nor a data URL', { type: 'image_url', image_url: { url: 'file:///etc/passwd' } }, 'messages[0].content[0].image_url.url'],
    ['file data that is not a data URL', { type: 'file', file: { file_data: PDF_B64, filename: 'a.pdf' } }, 'messages[0].content[0].file.file_data'],
    ['inline file data without a filename', { type: 'file', file: { file_data: `data:application/pdf;base64,${PDF_B64}` } }, 'messages[0].content[0].file.filename'],
    ['a part of unknown type', { type: 'video', video: {} }, 'messages[0].content[0].type'],
  ])('answers 400 for %s', async (_name, part, param) => {
    const err = await rejection(() => openai.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: [part as never] }] }));
    expect(err).toBeInstanceOf(OpenAI.BadRequestError);
    expect(err.param).toBe(param);
    expect(server.requests[0]!.faultSource).toBe('invalidRequest');
  });

  it('answers 400 for an image in a tool message (Chat Completions takes text only there) and for parallel_tool_calls without tools', async () => {
    const tool = await rejection(() =>
      openai.chat.completions.create({
        model: 'gpt-4o',
        messages: [
          { role: 'user', content: 'x' },
          { role: 'assistant', content: null, tool_calls: [{ id: 'c1', type: 'function', function: { name: 'f', arguments: '{}' } }] },
          { role: 'tool', tool_call_id: 'c1', content: [{ type: 'image_url', image_url: { url: 'https://example.com/a.png' } } as never] },
        ],
      }),
    );
    expect(tool.param).toBe('messages[2].content[0].type');
    const parallel = await rejection(() => openai.chat.completions.create({ model: 'gpt-4o', parallel_tool_calls: false, messages: [{ role: 'user', content: 'x' }] }));
    expect(parallel.param).toBe('parallel_tool_calls');
  });
});

describe('Anthropic wire: image and document blocks', () => {
  it('echoes images and documents (base64, URL, text; in tool results too) and the anthropic-beta header', async () => {
    server.script({ sequence: [fault.ok({ echo: true })] });
    const res = await anthropic.messages.create(
      {
        model: 'claude-sonnet-4-5',
        max_tokens: 100,
        messages: [
          {
            role: 'user',
            content: [
              { type: 'image', source: { type: 'base64', media_type: 'image/png', data: PNG_B64 } },
              { type: 'document', source: { type: 'url', url: 'https://example.com/a.pdf' }, title: 'a.pdf' },
              { type: 'document', source: { type: 'text', media_type: 'text/plain', data: 'hello' } },
            ],
          },
          { role: 'assistant', content: [{ type: 'tool_use', id: 't1', name: 'f', input: {} }] },
          { role: 'user', content: [{ type: 'tool_result', tool_use_id: 't1', content: [{ type: 'document', source: { type: 'base64', media_type: 'application/pdf', data: PDF_B64 } }] }] },
        ],
        tools: [{ name: 'f', input_schema: { type: 'object' } }],
      },
      { headers: { 'anthropic-beta': 'files-api-2025-04-14,context-1m-2025-08-07' } },
    );
    const block = res.content[0]!;
    const summary = JSON.parse(block.type === 'text' ? block.text : '') as InputSummary;
    expect(summary.attachments).toEqual([
      { message: 0, kind: 'image', source: 'base64', mediaType: 'image/png', bytes: PNG_BYTES },
      { message: 0, kind: 'file', source: 'url', url: 'https://example.com/a.pdf', filename: 'a.pdf' },
      { message: 0, kind: 'file', source: 'text', mediaType: 'text/plain', bytes: 5 },
      { message: 2, kind: 'file', source: 'base64', mediaType: 'application/pdf', bytes: 15, inToolResult: true },
    ]);
    expect(summary.betas).toEqual(['files-api-2025-04-14', 'context-1m-2025-08-07']);
  });

  it.each([
    ['an image whose bytes are not its media type', { type: 'image', source: { type: 'base64', media_type: 'image/jpeg', data: PNG_B64 } }, 'messages.0.content.0.source.data'],
    ['an image media type the API does not take', { type: 'image', source: { type: 'base64', media_type: 'image/bmp', data: PNG_B64 } }, 'messages.0.content.0.source.media_type'],
    ['a base64 document that is not a PDF', { type: 'document', source: { type: 'base64', media_type: 'application/pdf', data: PNG_B64 } }, 'messages.0.content.0.source.data'],
    ['a block of unknown type', { type: 'video' }, 'messages.0.content.0.type'],
  ])('answers 400 for %s', async (_name, block, param) => {
    const err = await rejection(() => anthropic.messages.create({ model: 'claude-sonnet-4-5', max_tokens: 10, messages: [{ role: 'user', content: [block as never] }] }));
    expect(err).toBeInstanceOf(Anthropic.BadRequestError);
    expect(err.error.error.message).toContain(param);
  });
});
