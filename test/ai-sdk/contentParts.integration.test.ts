/**
 * Images and files through the AI SDK entry points: AI SDK file parts reach each target of the chain
 * as Bulwark image / file parts (bulwarkModel), and Bulwark's parts reach AI SDK provider models as
 * AI SDK file parts (aiSdkTarget), Gemini's inline_data included. The fault server echoes what it
 * received (`fault.ok({ echo: true })`).
 */
import { createGoogleGenerativeAI } from '@ai-sdk/google';
import { createOpenAI } from '@ai-sdk/openai';
import { generateText } from 'ai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { aiSdkTarget, bulwarkModel } from '../../src/ai-sdk/index.js';
import { createResilientLLM } from '../../src/createResilientLLM.js';
import { fault, startFaultServer, type FaultServer } from '../../src/testing/index.js';
import { createFakeClock } from '../support/fakeClock.js';
import { threeTargetChain } from '../integration/setup.js';

(globalThis as { AI_SDK_LOG_WARNINGS?: boolean }).AI_SDK_LOG_WARNINGS = false;
const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==', 'base64');
const PDF = Buffer.from('%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n');

let server: FaultServer;
beforeAll(async () => {
  server = await startFaultServer({ seed: 12 });
});
afterAll(() => server.close());
beforeEach(() => server.reset());

const received = (text: string) => JSON.parse(text) as { attachments: Array<Record<string, unknown>> };

describe('bulwarkModel: AI SDK file parts', () => {
  it('an image and a PDF reach the target that answers, after a hop OpenAI → Anthropic', async () => {
    const { llm } = threeTargetChain(server, { retry: { maxAttempts: 1 } });
    server.script({ route: 'primary' }, { then: fault.serverError(503) });
    server.script({ route: 'backup' }, { then: fault.ok({ echo: true }) });
    const result = await generateText({
      model: bulwarkModel(llm),
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'What is in these?' },
            { type: 'image', image: PNG, mediaType: 'image/png' },
            { type: 'file', data: PDF, mediaType: 'application/pdf', filename: 'report.pdf' },
          ],
        },
      ],
    });
    expect(result.providerMetadata?.['bulwark']).toMatchObject({ target: { provider: 'anthropic' } });
    expect(received(result.text).attachments).toEqual([
      expect.objectContaining({ kind: 'image', source: 'base64', mediaType: 'image/png', bytes: PNG.length }),
      expect.objectContaining({ kind: 'file', source: 'base64', mediaType: 'application/pdf', bytes: PDF.length }),
    ]);
    // …and the OpenAI attempt carried them too, in OpenAI's shape.
    const toOpenAI = JSON.stringify(server.requests[0]!.body);
    expect(toOpenAI).toContain('"image_url"');
    expect(toOpenAI).toContain('"filename":"report.pdf"');
  });

  it('a file given as a provider reference fails naming the part', async () => {
    const { llm } = threeTargetChain(server);
    const error = await generateText({
      model: bulwarkModel(llm),
      messages: [{ role: 'user', content: [{ type: 'file', data: { type: 'reference', reference: { openai: 'file-abc' } } as never, mediaType: 'application/pdf' }] }],
    }).catch((e: unknown) => e);
    expect((error as Error).message).toMatch(/prompt\[0\]\.content\[0\]/);
    expect(server.requests).toHaveLength(0);
  });
});

describe('aiSdkTarget: Bulwark image and file parts', () => {
  it('reach @ai-sdk/openai and @ai-sdk/google models (Gemini inline_data)', async () => {
    const openai = createOpenAI({ apiKey: 'sk-test-key-0123456789', baseURL: server.baseURL('openai', 'oai') }).chat('gpt-4o');
    const google = createGoogleGenerativeAI({ apiKey: 'google-test-key-0123', baseURL: server.baseURL('gemini', 'gem') })('gemini-2.5-flash');
    const llm = createResilientLLM({ name: 'parts', targets: [aiSdkTarget({ model: openai }), aiSdkTarget({ model: google })], retry: { maxAttempts: 1 }, telemetry: false, clock: createFakeClock(Date.now()) });
    server.script({ route: 'oai' }, { then: fault.serverError(500) });
    server.script({ route: 'gem' }, { then: fault.ok({ echo: true }) });
    const res = await llm.chat({
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'Describe' },
            { type: 'image', image: PNG },
            { type: 'file', data: PDF, mediaType: 'application/pdf', filename: 'r.pdf' },
          ],
        },
      ],
    });
    expect(res.target.provider).toBe('gcp.gemini');
    expect(received(res.text).attachments).toEqual([
      { message: 0, kind: 'image', source: 'base64', mediaType: 'image/png', bytes: PNG.length },
      { message: 0, kind: 'file', source: 'base64', mediaType: 'application/pdf', bytes: PDF.length },
    ]);
    expect(JSON.stringify(server.requests[0]!.body)).toContain('"image_url"');
  });

  it('aiSdkTarget: provider options go to the model as its own AI SDK options; parallelToolCalls as the OpenAI model’s, refused for Gemini', async () => {
    const openai = createOpenAI({ apiKey: 'sk-test-key-0123456789', baseURL: server.baseURL('openai', 'oai') }).chat('gpt-4o');
    const google = createGoogleGenerativeAI({ apiKey: 'google-test-key-0123', baseURL: server.baseURL('gemini', 'gem') })('gemini-2.5-flash');
    const tools = [{ name: 'lookup', parameters: { type: 'object', properties: { q: { type: 'string' } } } }];
    const viaOpenAI = createResilientLLM({ name: 'opts', targets: [aiSdkTarget({ model: openai, providerOptions: { openai: { user: 'target-user' } } })], telemetry: false });
    server.script({ route: 'oai' }, { then: fault.ok({ text: 'ok' }) });
    await viaOpenAI.chat({ messages: [{ role: 'user', content: 'hi' }], tools, parallelToolCalls: false, providerOptions: { openai: { user: 'tenant-7' } } });
    expect(server.requests[0]!.body).toMatchObject({ user: 'tenant-7', parallel_tool_calls: false });

    const viaGemini = createResilientLLM({ name: 'opts-g', targets: [aiSdkTarget({ model: google })], telemetry: false });
    const error = await viaGemini.chat({ messages: [{ role: 'user', content: 'hi' }], tools, parallelToolCalls: false }).catch((e: unknown) => e);
    expect(error).toMatchObject({ errorType: 'bad_request' });
    expect((error as Error).message).toContain('parallelToolCalls');
    expect(server.requests).toHaveLength(1);
  });
});
