/**
 * The fault server's Gemini route on the wire (raw fetch): the URL shape, Google's error body
 * (google.rpc.Status with RetryInfo / ErrorInfo details), the 200 SAFETY refusal and the SSE
 * framing of streamGenerateContent?alt=sse. The @ai-sdk/google client runs against it in
 * test/ai-sdk/aiSdkTarget.integration.test.ts.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { fault, startFaultServer, type FaultServer } from '../../src/testing/index.js';

let server: FaultServer;
beforeAll(async () => {
  server = await startFaultServer({ seed: 5 });
});
afterAll(() => server.close());
beforeEach(() => server.reset());

const body = { contents: [{ role: 'user', parts: [{ text: 'Hello there, Gemini' }] }], systemInstruction: { parts: [{ text: 'Be brief' }] } };
const post = (path: string) =>
  fetch(`${server.baseURL('gemini', 'gem')}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

describe('Gemini route', () => {
  it('answers generateContent with candidates, usage and the model from the path', async () => {
    server.script({ provider: 'gemini' }, { then: fault.ok({ text: 'Hi!', toolCalls: [{ name: 'lookup', arguments: { q: 'x' } }] }) });
    const res = await post('/models/gemini-2.5-flash:generateContent');
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({
      candidates: [{ content: { role: 'model', parts: [{ text: 'Hi!' }, { functionCall: { name: 'lookup', args: { q: 'x' } } }] }, finishReason: 'STOP' }],
      usageMetadata: { promptTokenCount: 8 },
      modelVersion: 'gemini-2.5-flash',
    });
    expect(server.requests[0]).toMatchObject({ route: 'gem', provider: 'gemini', model: 'gemini-2.5-flash', stream: false, estimatedInputTokens: 8 });
  });

  it('streams as bare SSE data events, the finish reason and final usage on the last one', async () => {
    server.script({ provider: 'gemini' }, { then: fault.ok({ text: 'one two three', usage: { inputTokens: 4, outputTokens: 3 } }) });
    const res = await post('/models/gemini-2.5-flash:streamGenerateContent?alt=sse');
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const events = (await res.text()).split('\n\n').filter(Boolean);
    expect(events.every((e) => e.startsWith('data: ') && !e.includes('event:'))).toBe(true);
    const chunks = events.map((e) => JSON.parse(e.slice(6)) as { candidates: Array<{ content: { parts: Array<{ text: string }> }; finishReason?: string }>; usageMetadata: unknown });
    expect(chunks.map((c) => c.candidates[0]!.content.parts[0]!.text).join('')).toBe('one two three');
    expect(chunks.at(-1)).toMatchObject({ candidates: [{ finishReason: 'STOP' }], usageMetadata: { promptTokenCount: 4, candidatesTokenCount: 3, totalTokenCount: 7 } });
    expect(chunks.slice(0, -1).every((c) => c.candidates[0]!.finishReason === undefined)).toBe(true);
  });

  it('refuses a stream without alt=sse (the JSON-array form is not served)', async () => {
    const res = await post('/models/gemini-2.5-flash:streamGenerateContent');
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: { code: 400, status: 'INVALID_ARGUMENT', message: expect.stringContaining('alt=sse') } });
  });

  it.each([
    [fault.rateLimit({ retryAfterMs: 1_500 }), 429, 'RESOURCE_EXHAUSTED'],
    [fault.serverError(500), 500, 'INTERNAL'],
    [fault.serverError(504), 504, 'DEADLINE_EXCEEDED'],
    [fault.overloaded(), 503, 'UNAVAILABLE'],
    [fault.authentication(), 400, 'INVALID_ARGUMENT'],
    [fault.permissionDenied(), 403, 'PERMISSION_DENIED'],
    [fault.modelNotFound(), 404, 'NOT_FOUND'],
  ])('errors in Google’s shape: %o → %i %s', async (f, status, canonical) => {
    server.script({ provider: 'gemini' }, { then: f });
    const res = await post('/models/gemini-2.5-flash:generateContent');
    expect(res.status).toBe(status);
    const json = (await res.json()) as { error: { code: number; status: string; message: string; details?: unknown[] } };
    expect(json.error).toMatchObject({ code: status, status: canonical, message: expect.any(String) });
    if (f.kind === 'rateLimit') expect(json.error.details).toContainEqual({ '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: '1.500s' });
    if (f.kind === 'authentication') expect(json.error.details).toContainEqual(expect.objectContaining({ reason: 'API_KEY_INVALID' }));
  });

  it('a content-policy refusal is a 200 that finishes with SAFETY', async () => {
    server.script({ provider: 'gemini' }, { then: fault.contentFilter() });
    const res = await post('/models/gemini-2.5-flash:generateContent');
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ candidates: [{ finishReason: 'SAFETY', content: { parts: [] } }] });
  });

  it('an error in the middle of a stream is a data event carrying `error`', async () => {
    server.script({ provider: 'gemini' }, { then: fault.streamError({ afterChunks: 1, reply: { text: 'one two three' } }) });
    const res = await post('/models/gemini-2.5-flash:streamGenerateContent?alt=sse');
    const events = (await res.text()).split('\n\n').filter(Boolean).map((e) => JSON.parse(e.slice(6)) as Record<string, unknown>);
    expect(events.at(-1)).toEqual({ error: { code: 503, status: 'UNAVAILABLE', message: 'The model is overloaded. Please try again later.' } });
  });
});
