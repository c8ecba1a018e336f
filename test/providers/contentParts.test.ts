import { describe, expect, it } from 'vitest';
import { ProviderError } from '../../src/errors/providerError.js';
import { toAnthropicParams } from '../../src/providers/anthropicConvert.js';
import { ANTHROPIC_DEFAULTS, OPENAI_DEFAULTS, resolveCapabilities, unsupportedInput } from '../../src/providers/capabilities.js';
import { toOpenAIParams } from '../../src/providers/openaiConvert.js';
import { withProviderOptions } from '../../src/providers/providerOptionsBody.js';
import { cacheKey } from '../../src/cache/cacheKey.js';
import { inputNeeds, parseDataUrl, resolveSource, sniffImageType } from '../../src/request/contentParts.js';
import type { ChatRequest } from '../../src/request/types.js';
import { inputMessagesJson } from '../../src/telemetry/content.js';

const openaiCtx = { provider: 'openai', model: 'gpt-4o', maxTokensParam: 'max_tokens' as const };
const anthropicCtx = { provider: 'anthropic', model: 'claude-sonnet-4-5', defaultMaxTokens: 1024 };

// A 1×1 PNG (the real file's bytes) and a tiny PDF-like payload.
const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==', 'base64');
const PNG_B64 = PNG.toString('base64');
const PDF = Buffer.from('%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n');
const PDF_B64 = PDF.toString('base64');

const conversation: ChatRequest = {
  messages: [
    { role: 'developer', content: 'Be exact.' },
    {
      role: 'user',
      content: [
        { type: 'text', text: 'What is in these?' },
        { type: 'image', image: new Uint8Array(PNG) },
        { type: 'image', image: 'https://example.com/cat.jpg' },
        { type: 'file', data: `data:application/pdf;base64,${PDF_B64}`, mediaType: 'application/pdf', filename: 'report.pdf' },
      ],
    },
    { role: 'assistant', content: null, toolCalls: [{ id: 'call_1', name: 'screenshot', arguments: '{}' }, { id: 'call_2', name: 'lookup', arguments: '{}' }] },
    { role: 'tool', toolCallId: 'call_1', content: [{ type: 'text', text: 'Here it is' }, { type: 'image', image: `data:image/png;base64,${PNG_B64}` }] },
    { role: 'tool', toolCallId: 'call_2', content: 'plain result' },
    { role: 'user', content: 'And now?' },
  ],
  tools: [{ name: 'screenshot', parameters: { type: 'object' } }, { name: 'lookup', parameters: { type: 'object' } }],
};

describe('content parts → OpenAI Chat Completions', () => {
  it('sends image_url and file parts; developer as system; tool attachments in a user message after the tool run', () => {
    const params = toOpenAIParams(conversation, openaiCtx);
    expect(params.messages).toEqual([
      { role: 'system', content: 'Be exact.' },
      {
        role: 'user',
        content: [
          { type: 'text', text: 'What is in these?' },
          { type: 'image_url', image_url: { url: `data:image/png;base64,${PNG_B64}` } },
          { type: 'image_url', image_url: { url: 'https://example.com/cat.jpg' } },
          { type: 'file', file: { file_data: `data:application/pdf;base64,${PDF_B64}`, filename: 'report.pdf' } },
        ],
      },
      {
        role: 'assistant',
        content: null,
        tool_calls: [
          { id: 'call_1', type: 'function', function: { name: 'screenshot', arguments: '{}' } },
          { id: 'call_2', type: 'function', function: { name: 'lookup', arguments: '{}' } },
        ],
      },
      { role: 'tool', tool_call_id: 'call_1', content: [{ type: 'text', text: 'Here it is' }, { type: 'text', text: '[1 attachment in the next user message]' }] },
      { role: 'tool', tool_call_id: 'call_2', content: 'plain result' },
      {
        role: 'user',
        content: [
          { type: 'text', text: 'Attachments of the tool result call_1:' },
          { type: 'image_url', image_url: { url: `data:image/png;base64,${PNG_B64}` } },
        ],
      },
      { role: 'user', content: 'And now?' },
    ]);
  });

  it('gives inline file data a filename when the part has none', () => {
    const params = toOpenAIParams({ messages: [{ role: 'user', content: [{ type: 'file', data: new Uint8Array(PDF), mediaType: 'application/pdf' }] }] }, openaiCtx);
    expect(params.messages[0]).toEqual({ role: 'user', content: [{ type: 'file', file: { file_data: `data:application/pdf;base64,${PDF_B64}`, filename: 'attachment.pdf' } }] });
  });

  it('refuses a file by URL (Chat Completions takes files only inline) as bad_request', () => {
    const request: ChatRequest = { messages: [{ role: 'user', content: [{ type: 'file', data: 'https://example.com/a.pdf', mediaType: 'application/pdf' }] }] };
    expect(() => toOpenAIParams(request, openaiCtx)).toThrow(ProviderError);
  });

  it('sends parallel_tool_calls with tools only', () => {
    const tools = [{ name: 'a', parameters: { type: 'object' } }];
    expect(toOpenAIParams({ messages: [{ role: 'user', content: 'x' }], tools, parallelToolCalls: false }, openaiCtx).parallel_tool_calls).toBe(false);
    expect(toOpenAIParams({ messages: [{ role: 'user', content: 'x' }], parallelToolCalls: false }, openaiCtx)).not.toHaveProperty('parallel_tool_calls');
  });
});

describe('content parts → Anthropic Messages', () => {
  it('sends image and document blocks (base64 and URL), tool results with their images, developer in system', () => {
    const params = toAnthropicParams(conversation, anthropicCtx);
    expect(params.system).toBe('Be exact.');
    expect(params.messages).toEqual([
      {
        role: 'user',
        content: [
          { type: 'text', text: 'What is in these?' },
          { type: 'image', source: { type: 'base64', media_type: 'image/png', data: PNG_B64 } },
          { type: 'image', source: { type: 'url', url: 'https://example.com/cat.jpg' } },
          { type: 'document', source: { type: 'base64', media_type: 'application/pdf', data: PDF_B64 }, title: 'report.pdf' },
        ],
      },
      {
        role: 'assistant',
        content: [
          { type: 'tool_use', id: 'call_1', name: 'screenshot', input: {} },
          { type: 'tool_use', id: 'call_2', name: 'lookup', input: {} },
        ],
      },
      {
        role: 'user',
        content: [
          {
            type: 'tool_result',
            tool_use_id: 'call_1',
            content: [
              { type: 'text', text: 'Here it is' },
              { type: 'image', source: { type: 'base64', media_type: 'image/png', data: PNG_B64 } },
            ],
          },
          { type: 'tool_result', tool_use_id: 'call_2', content: 'plain result' },
          { type: 'text', text: 'And now?' },
        ],
      },
    ]);
  });

  it('sends a PDF by URL as a URL document and plain text as a text document', () => {
    const params = toAnthropicParams(
      {
        messages: [
          {
            role: 'user',
            content: [
              { type: 'file', data: new URL('https://example.com/a.pdf'), mediaType: 'application/pdf' },
              { type: 'file', data: new TextEncoder().encode('line one\nline two'), mediaType: 'text/plain', filename: 'notes.txt' },
            ],
          },
        ],
      },
      anthropicCtx,
    );
    expect(params.messages[0]!.content).toEqual([
      { type: 'document', source: { type: 'url', url: 'https://example.com/a.pdf' } },
      { type: 'document', source: { type: 'text', media_type: 'text/plain', data: 'line one\nline two' }, title: 'notes.txt' },
    ]);
  });

  it('says parallelToolCalls the other way round, on tool_choice', () => {
    const tools = [{ name: 'a', parameters: { type: 'object' } }];
    const base = { messages: [{ role: 'user' as const, content: 'x' }], tools };
    expect(toAnthropicParams({ ...base, parallelToolCalls: false }, anthropicCtx).tool_choice).toEqual({ type: 'auto', disable_parallel_tool_use: true });
    expect(toAnthropicParams({ ...base, toolChoice: 'required', parallelToolCalls: true }, anthropicCtx).tool_choice).toEqual({ type: 'any', disable_parallel_tool_use: false });
    expect(toAnthropicParams({ ...base, toolChoice: 'none', parallelToolCalls: false }, anthropicCtx).tool_choice).toEqual({ type: 'none' });
    expect(toAnthropicParams({ messages: base.messages, parallelToolCalls: false }, anthropicCtx)).not.toHaveProperty('tool_choice');
  });
});

describe('sources', () => {
  it('reads data URLs (base64 and percent-encoded), URLs and bytes; anything else is no source', () => {
    expect(parseDataUrl(`data:image/png;base64,${PNG_B64}`)).toEqual({ mediaType: 'image/png', bytes: PNG });
    expect(Buffer.from(parseDataUrl('data:text/plain,a%20b')!.bytes).toString()).toBe('a b');
    expect(resolveSource('https://example.com/x.png')).toEqual({ kind: 'url', url: 'https://example.com/x.png' });
    expect(resolveSource(new Uint8Array(PNG))).toMatchObject({ kind: 'bytes', mediaType: 'image/png' });
    expect(resolveSource('file:///etc/passwd')).toBeUndefined();
    expect(resolveSource('not a url')).toBeUndefined();
    expect(resolveSource('data:image/png;base64,@@@')).toBeUndefined();
    expect(resolveSource(42)).toBeUndefined();
  });

  it('sniffs the four image formats both providers take', () => {
    expect(sniffImageType(PNG)).toBe('image/png');
    expect(sniffImageType(Uint8Array.from([0xff, 0xd8, 0xff, 0xe0]))).toBe('image/jpeg');
    expect(sniffImageType(new TextEncoder().encode('GIF89a'))).toBe('image/gif');
    expect(sniffImageType(new TextEncoder().encode('RIFF\0\0\0\0WEBPVP8 '))).toBe('image/webp');
    expect(sniffImageType(PDF)).toBeUndefined();
  });
});

describe('capabilities', () => {
  it('defaults per model family', () => {
    expect(resolveCapabilities('gpt-4o-mini', OPENAI_DEFAULTS, undefined)).toEqual({ images: true, fileTypes: ['application/pdf'], fileUrlTypes: [] });
    expect(resolveCapabilities('o3-mini', OPENAI_DEFAULTS, undefined)).toEqual({ images: false, fileTypes: [], fileUrlTypes: [] });
    expect(resolveCapabilities('llama3.1', OPENAI_DEFAULTS, undefined).images).toBe(false);
    expect(resolveCapabilities('claude-sonnet-4-5', ANTHROPIC_DEFAULTS, undefined)).toEqual({ images: true, fileTypes: ['application/pdf', 'text/plain'], fileUrlTypes: ['application/pdf'] });
    expect(resolveCapabilities('claude-3-haiku-20240307', ANTHROPIC_DEFAULTS, undefined)).toEqual({ images: true, fileTypes: [], fileUrlTypes: [] });
    expect(resolveCapabilities('llama3.1', OPENAI_DEFAULTS, { images: true, files: ['Application/PDF'] })).toEqual({ images: true, fileTypes: ['application/pdf'], fileUrlTypes: [] });
  });

  it('names what a target cannot take', () => {
    const needs = inputNeeds(conversation.messages);
    expect(unsupportedInput(needs, resolveCapabilities('gpt-4o', OPENAI_DEFAULTS, undefined))).toBeUndefined();
    expect(unsupportedInput(needs, resolveCapabilities('gpt-3.5-turbo', OPENAI_DEFAULTS, undefined))).toBe('takes no images');
    expect(unsupportedInput(needs, resolveCapabilities('gpt-4o', OPENAI_DEFAULTS, { files: false }))).toBe('takes no application/pdf files');
    const byUrl = inputNeeds([{ role: 'user', content: [{ type: 'file', data: 'https://example.com/a.pdf', mediaType: 'application/pdf' }] }]);
    expect(unsupportedInput(byUrl, resolveCapabilities('gpt-4o', OPENAI_DEFAULTS, undefined))).toBe('takes application/pdf files only inline, not by URL');
    expect(unsupportedInput(byUrl, resolveCapabilities('claude-opus-4-1', ANTHROPIC_DEFAULTS, undefined))).toBeUndefined();
  });
});

describe('provider options', () => {
  it("merge the target's entry and the request's (request wins) for this provider only", () => {
    const body = withProviderOptions({ model: 'm' }, { openai: { seed: 1, service_tier: 'flex' }, anthropic: { top_k: 5 } }, { openai: { seed: 2 } }, { provider: 'openai', model: 'm' });
    expect(body).toEqual({ model: 'm', seed: 2, service_tier: 'flex' });
  });

  it('refuse a field Bulwark owns, naming it', () => {
    expect(() => withProviderOptions({}, undefined, { openai: { messages: [] } }, { provider: 'openai', model: 'm' })).toThrow(/providerOptions\.openai\.messages/);
  });
});

describe('cache key and content capture', () => {
  it('the same bytes as a data URL or a Uint8Array are one cache entry; other bytes another', () => {
    const withBytes: ChatRequest = { messages: [{ role: 'user', content: [{ type: 'image', image: new Uint8Array(PNG) }] }] };
    const withDataUrl: ChatRequest = { messages: [{ role: 'user', content: [{ type: 'image', image: `data:image/png;base64,${PNG_B64}` }] }] };
    const other: ChatRequest = { messages: [{ role: 'user', content: [{ type: 'image', image: Uint8Array.from([...PNG, 0]) }] }] };
    expect(cacheKey('c', undefined, withBytes)).toBe(cacheKey('c', undefined, withDataUrl));
    expect(cacheKey('c', undefined, withBytes)).not.toBe(cacheKey('c', undefined, other));
  });

  it('records small blobs, only type and size of large ones, and URLs without their query', () => {
    const big = new Uint8Array(20 * 1024 * 1024);
    big.set(PNG.subarray(0, 8));
    const json = inputMessagesJson([
      {
        role: 'user',
        content: [
          { type: 'image', image: new Uint8Array(PNG) },
          { type: 'image', image: big },
          { type: 'image', image: 'https://bucket.example.com/shot.png?X-Amz-Signature=secret' },
        ],
      },
    ]);
    expect(json.length).toBeLessThan(2_000);
    expect(JSON.parse(json)).toEqual([
      {
        role: 'user',
        parts: [
          { type: 'blob', modality: 'image', mime_type: 'image/png', content: PNG_B64, size_bytes: PNG.length },
          { type: 'blob', modality: 'image', mime_type: 'image/png', size_bytes: big.length, truncated: true },
          { type: 'uri', modality: 'image', uri: 'https://bucket.example.com/shot.png' },
        ],
      },
    ]);
  });
});
