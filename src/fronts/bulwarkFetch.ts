import type { ResilientLLM } from '../createResilientLLM.js';
import { anthropicFront } from './anthropicFront.js';
import { handleFront, type FrontInput } from './handleFront.js';
import { openaiFront } from './openaiFront.js';
import type { WireFront } from './wireFront.js';

export type FrontName = 'openai' | 'anthropic';

export interface BulwarkFetchOptions {
  /** The wire protocol the client speaks: 'openai' (Chat Completions, default) or 'anthropic' (Messages). */
  front?: FrontName;
}

export const FRONTS: Record<FrontName, WireFront> = { openai: openaiFront, anthropic: anthropicFront };

/**
 * A WHATWG `fetch` that answers in process through a chain: give it to a provider's client
 * (`new OpenAI({ apiKey: 'unused', fetch: bulwarkFetch(llm) })`) and every call the client, or a
 * framework holding it, makes goes through Bulwark. Routes by path (`/chat/completions`,
 * `/v1/messages`); anything else is a 404 in the provider's error shape. The caller's abort
 * signal passes through; cancelling the response body closes the upstream.
 */
export function bulwarkFetch(llm: ResilientLLM, options: BulwarkFetchOptions = {}): typeof fetch {
  const front = FRONTS[options.front ?? 'openai'];
  if (!front) throw new TypeError(`bulwarkFetch: front must be 'openai' or 'anthropic', not ${JSON.stringify(options.front)}`);
  return async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const call = toFrontInput(input, init);
    call.signal?.throwIfAborted();
    const response = await handleFront(front, call, llm);
    // An abort before the answer is a rejected fetch, as the platform's fetch does (not a 499 body).
    if (call.signal?.aborted) {
      await response.body?.cancel().catch(() => undefined);
      throw call.signal.reason;
    }
    return response;
  };
}

/** The clients pass (url, init) with a string body: read it without building a Request. */
function toFrontInput(input: string | URL | Request, init: RequestInit | undefined): FrontInput {
  if (input instanceof Request) {
    const request = init ? new Request(input, init) : input;
    return request;
  }
  const body = init?.body;
  return {
    method: init?.method ?? 'GET',
    url: String(input),
    signal: init?.signal,
    json: () => (typeof body === 'string' ? Promise.resolve(JSON.parse(body)) : new Response(body ?? null).json()),
  };
}
