import type { ResilientLLM } from '../createResilientLLM.js';
import { BulwarkError } from '../errors/bulwarkError.js';
import type { StreamEvent } from '../request/types.js';
import { factHeaders } from './facts.js';
import { failureOf, type FrontFailure } from './frontError.js';
import type { FrontCall, WireFront } from './wireFront.js';

/**
 * What a front needs of an HTTP request: a WHATWG `Request` is one, and so is what a node:http
 * server or `bulwarkFetch` builds without the cost of a `Request`.
 */
export interface FrontInput {
  readonly method: string;
  /** The path (and query) of the request, or its whole URL. */
  readonly url: string;
  readonly signal?: AbortSignal | null | undefined;
  json(): Promise<unknown>;
}

const JSON_HEADERS = { 'content-type': 'application/json' } as const;
const SSE_HEADERS = { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' } as const;

/**
 * A front's answer before it is a WHATWG `Response`: what a node:http server writes as is (no
 * Response, body stream or encoding on the way), and what `handleFront` wraps.
 */
export type FrontAnswer =
  | { readonly status: number; readonly headers: Record<string, string>; readonly body: string; readonly frames?: undefined }
  | {
      readonly status: number;
      readonly headers: Record<string, string>;
      readonly body?: undefined;
      /**
       * SSE frames, read one at a time. A failure after the first frame is an error event, then the
       * end; it throws only when the caller's signal aborted.
       */
      readonly frames: AsyncIterator<string>;
      /** The consumer stopped reading: the Bulwark stream's return() closes the upstream connection. */
      cancel(): Promise<void>;
    };

/**
 * A front as a pure function of (request, llm) → Response: calls only `llm.chat` / `llm.stream`.
 * A streamed answer starts (status 200) only once the chain has produced its first event, so a
 * chain exhausted before any content is an HTTP error with a meaningful status, not a 200 stream.
 */
export async function handleFront(front: WireFront, input: FrontInput, llm: ResilientLLM): Promise<Response> {
  const answer = await answerFront(front, input, llm);
  if (answer.frames === undefined) return new Response(answer.body, { status: answer.status, headers: answer.headers });
  const { frames } = answer;
  const encoder = new TextEncoder();
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const next = await frames.next();
        if (next.done) controller.close();
        else controller.enqueue(encoder.encode(next.value));
      } catch (error) {
        controller.error(error);
      }
    },
    cancel: () => answer.cancel(),
  });
  return new Response(body, { status: answer.status, headers: answer.headers });
}

/** `handleFront` without the `Response`: the status, headers and body (a JSON string or SSE frames). */
export async function answerFront(front: WireFront, input: FrontInput, llm: ResilientLLM): Promise<FrontAnswer> {
  const path = pathOf(input.url);
  if (!path.endsWith(front.path)) {
    return errorAnswer(front, { status: 404, kind: 'not_found', message: `Bulwark's ${front.name} front serves POST ${front.path} only, not ${path}` });
  }
  if (input.method.toUpperCase() !== 'POST') {
    return errorAnswer(front, { status: 405, kind: 'invalid_request', message: `${front.path} takes POST, not ${input.method}` });
  }
  let call: FrontCall;
  try {
    call = front.parse(await input.json().catch(() => notJson()));
  } catch (error) {
    return errorAnswer(front, failureOf(error));
  }
  if (input.signal) call.request.signal = input.signal;
  if (!call.stream) {
    try {
      const result = await llm.chat(call.request);
      return { status: 200, headers: { ...JSON_HEADERS, ...factHeaders(result) }, body: JSON.stringify(front.json(result, call)) };
    } catch (error) {
      return errorAnswer(front, failureOf(error));
    }
  }
  return streamAnswer(front, call, llm, input.signal ?? undefined);
}

async function streamAnswer(front: WireFront, call: FrontCall, llm: ResilientLLM, signal: AbortSignal | undefined): Promise<FrontAnswer> {
  const stream = llm.stream(call.request);
  const upstream = stream[Symbol.asyncIterator]();
  let first: IteratorResult<StreamEvent>;
  try {
    first = await upstream.next();
  } catch (error) {
    return errorAnswer(front, failureOf(error));
  }
  const frames = front.sse(withoutRestart(first, upstream), call, stream.result);
  let ended = false;
  return {
    status: 200,
    headers: { ...SSE_HEADERS },
    frames: {
      async next(): Promise<IteratorResult<string>> {
        if (ended) return { done: true, value: undefined };
        try {
          return await frames.next();
        } catch (error) {
          if (signal?.aborted) throw signal.reason;
          ended = true;
          return { done: false, value: front.errorEvent(failureOf(error)) };
        }
      },
    },
    async cancel() {
      ended = true;
      await upstream.return?.();
      await frames.return(undefined);
    },
  };
}

/**
 * The stream's events with the first one put back. A `reset` (midStream 'restart' moving to the
 * next target) cannot be retracted over SSE: the consumer already has the first target's text, and
 * splicing a second answer after it would corrupt it. So the stream ends there with a clean error
 * event, and the upstream closes.
 */
async function* withoutRestart(first: IteratorResult<StreamEvent>, upstream: AsyncIterator<StreamEvent>): AsyncGenerator<Exclude<StreamEvent, { type: 'reset' }>> {
  let next = first;
  while (!next.done) {
    const event = next.value;
    if (event.type === 'reset') {
      await upstream.return?.();
      throw new BulwarkError(
        'server_error',
        `The upstream stream failed after content was sent (${event.reason}); Bulwark's mid-stream restart cannot retract text already streamed over SSE, so the stream ends here. Retry the request.`,
      );
    }
    yield event;
    next = await upstream.next();
  }
}

export function errorResponse(front: WireFront, failure: FrontFailure): Response {
  const answer = errorAnswer(front, failure);
  return new Response(answer.body, { status: answer.status, headers: answer.headers });
}

/** A failure in the front's error shape: its status, headers and JSON body. */
export function errorAnswer(front: WireFront, failure: FrontFailure): FrontAnswer & { body: string } {
  const headers: Record<string, string> = { ...JSON_HEADERS, 'x-should-retry': failure.retry === true ? 'true' : 'false' };
  if (failure.retryAfterMs !== undefined) {
    const ms = Math.max(0, Math.ceil(failure.retryAfterMs));
    headers['retry-after'] = String(Math.max(1, Math.ceil(ms / 1000)));
    headers['retry-after-ms'] = String(ms);
  }
  if (failure.attempts !== undefined) headers['x-bulwark-attempts'] = String(failure.attempts);
  if (failure.errorType) headers['x-bulwark-error-type'] = failure.errorType;
  return { status: failure.status, headers, body: JSON.stringify(front.errorBody(failure)) };
}

function notJson(): never {
  throw new BulwarkError('bad_request', 'The request body is not valid JSON');
}

function pathOf(url: string): string {
  const start = url.startsWith('/') ? 0 : url.indexOf('/', url.indexOf('//') + 2);
  if (start < 0) return '/';
  const end = url.search(/[?#]/);
  return end < 0 ? url.slice(start) : url.slice(start, end);
}
