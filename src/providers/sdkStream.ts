import type { ProviderError } from '../errors/providerError.js';
import type { StreamEvent } from '../request/types.js';

/** What both SDKs' `create({ stream: true })` resolve to: an async iterable owning an AbortController. */
export interface SdkStream<Chunk> extends AsyncIterable<Chunk> {
  controller: AbortController;
}

export interface ChunkMapper<Chunk> {
  push(chunk: Chunk): StreamEvent[];
  /** Called after the SDK stream ended cleanly; throws if the answer was incomplete. */
  end(): StreamEvent[];
}

/**
 * Drives one streamed call: opens it, maps chunks to events, and guarantees the HTTP request is
 * closed however iteration stops — consumer `break` (generator return), a thrown error, or `signal`.
 *
 * The SDKs end a stream *silently* when its request is aborted, so a stream that ends while `signal`
 * is aborted is reported as cancelled instead of as a (truncated) success.
 */
export async function* streamFromSdk<Chunk>(
  open: () => Promise<SdkStream<Chunk>>,
  mapper: ChunkMapper<Chunk>,
  signal: AbortSignal,
  fail: (err: unknown) => ProviderError,
): AsyncGenerator<StreamEvent, void, undefined> {
  if (signal.aborted) throw fail(signal.reason);
  let stream: SdkStream<Chunk>;
  try {
    stream = await open();
  } catch (err) {
    throw fail(err);
  }
  try {
    let events: StreamEvent[];
    const iterator = stream[Symbol.asyncIterator]();
    let drained = false;
    try {
      while (true) {
        let next: IteratorResult<Chunk>;
        try {
          next = await iterator.next();
          if (next.done) {
            drained = true;
            break;
          }
          events = mapper.push(next.value);
        } catch (err) {
          throw fail(err);
        }
        for (const event of events) yield event;
      }
    } finally {
      if (!drained) {
        // Abort first so the SDK's cleanup never waits on a socket we are leaving.
        stream.controller.abort();
        await iterator.return?.().catch(() => undefined);
      }
    }
    if (signal.aborted) throw fail(signal.reason);
    try {
      events = mapper.end();
    } catch (err) {
      throw fail(err);
    }
    for (const event of events) yield event;
  } finally {
    // Idempotent; after a complete answer the connection is already done with.
    stream.controller.abort();
  }
}
