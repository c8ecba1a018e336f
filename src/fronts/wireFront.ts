import type { ChatRequest, ChatResult, StreamEvent } from '../request/types.js';
import type { FrontFailure } from './frontError.js';

/** A native request translated: the Bulwark request and what the answer must look like. */
export interface FrontCall {
  request: ChatRequest;
  stream: boolean;
  /** The model the caller named: echoed where the answer must name one before the chain knows who answers. */
  model: string;
  /** OpenAI `stream_options.include_usage`. */
  includeUsage: boolean;
}

/** One provider's wire protocol: its request shape in, its response, stream and error shapes out. */
export interface WireFront {
  readonly name: 'openai' | 'anthropic';
  /** The request path this front answers (matched as the end of the URL's path). */
  readonly path: string;
  parse(body: unknown): FrontCall;
  json(result: ChatResult, call: FrontCall): unknown;
  /** SSE frames of an answer. `events` carries no `reset` (the caller turns it into an error first). */
  sse(events: AsyncIterable<Exclude<StreamEvent, { type: 'reset' }>>, call: FrontCall, result: Promise<ChatResult>): AsyncGenerator<string>;
  errorBody(failure: FrontFailure): unknown;
  /** An error inside a 200 SSE stream, as the provider sends one. */
  errorEvent(failure: FrontFailure): string;
}

export function sseData(data: unknown, event?: string): string {
  return `${event ? `event: ${event}\n` : ''}data: ${JSON.stringify(data)}\n\n`;
}
