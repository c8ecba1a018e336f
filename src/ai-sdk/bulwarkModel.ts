import type {
  JSONObject,
  LanguageModelV4,
  LanguageModelV4CallOptions,
  LanguageModelV4Content,
  LanguageModelV4FinishReason,
  LanguageModelV4GenerateResult,
  LanguageModelV4StreamPart,
  LanguageModelV4StreamResult,
  LanguageModelV4Usage,
  SharedV4ProviderMetadata,
  SharedV4Warning,
} from '@ai-sdk/provider';
import type { ResilientLLM } from '../createResilientLLM.js';
import { BulwarkError } from '../errors/bulwarkError.js';
import type { ChatResult, FinishReason, ReasoningBlock, StreamEvent, Usage } from '../request/types.js';
import { REASONING_KEY, callToRequest } from './callToRequest.js';

export interface BulwarkModelOptions {
  /** `modelId` the AI SDK reports (its spans, `response.modelId` fallback). Default: the chain's name. */
  modelId?: string;
}

/**
 * A chain as an AI SDK language model (provider specification v4, the one `ai` 7.x expects):
 * `generateText`, `streamText`, structured output and tool loops run through Bulwark's retries,
 * breakers, fallback, cache and degradation. Bulwark's facts ride in `providerMetadata.bulwark`.
 *
 * Bulwark has already retried and fallen back when a call fails, so its errors are BulwarkErrors,
 * never `APICallError`s: the AI SDK's own `maxRetries` does not retry them again.
 *
 * @example
 * const result = await generateText({ model: bulwarkModel(llm), prompt: 'Hello' });
 * result.providerMetadata?.bulwark; // { tier, target, attempts, costUsd, fallbackUsed }
 */
export function bulwarkModel(llm: ResilientLLM, options: BulwarkModelOptions = {}): LanguageModelV4 {
  return new BulwarkLanguageModel(llm, options.modelId ?? llm.name);
}

/** What a restart under `midStream: 'restart'` becomes in an AI SDK stream (see doStream). */
export class StreamRestartedError extends BulwarkError {
  override readonly name = 'StreamRestartedError';
  constructor(reason: string) {
    super(
      'server_error',
      `The answer's stream failed after it had started (${reason}) and the chain restarted it on another target; ` +
        'an AI SDK stream cannot take back the parts it already delivered, so the stream ends here instead of ' +
        "splicing two models' text. Retry the call (or use midStream: 'error').",
    );
  }
}

class BulwarkLanguageModel implements LanguageModelV4 {
  readonly specificationVersion = 'v4';
  readonly provider = 'bulwark';
  readonly modelId: string;
  // No URL is fetched by Bulwark's targets: the AI SDK downloads file URLs before calling us.
  readonly supportedUrls: Record<string, RegExp[]> = {};
  readonly #llm: ResilientLLM;

  constructor(llm: ResilientLLM, modelId: string) {
    this.#llm = llm;
    this.modelId = modelId;
  }

  async doGenerate(options: LanguageModelV4CallOptions): Promise<LanguageModelV4GenerateResult> {
    const { request, warnings } = callToRequest(options);
    const result = await this.#llm.chat(request);
    const content: LanguageModelV4Content[] = [];
    if (result.reasoning || result.reasoningBlocks?.length) {
      content.push({ type: 'reasoning', text: result.reasoning ?? '', providerMetadata: reasoningMetadata(result.reasoningBlocks) });
    }
    if (result.text !== '') content.push({ type: 'text', text: result.text });
    for (const call of result.toolCalls) {
      content.push({ type: 'tool-call', toolCallId: call.id, toolName: call.name, input: call.arguments || '{}' });
    }
    return {
      content,
      finishReason: finishReasonOf(result.finishReason),
      usage: usageOf(result.usage),
      providerMetadata: { bulwark: bulwarkMetadata(result) },
      response: { ...(result.responseId !== undefined && { id: result.responseId }), modelId: result.model },
      warnings,
    };
  }

  /**
   * Streams through `llm.stream()`. The first event is awaited here, so a chain that fails before
   * any content rejects doStream like a provider's HTTP error would. A `reset` event (a mid-stream
   * restart on another target) ends the stream with an `error` part carrying StreamRestartedError:
   * the consumer already holds the first target's text, and concatenating the second answer to it
   * would splice two models' output into one.
   */
  async doStream(options: LanguageModelV4CallOptions): Promise<LanguageModelV4StreamResult> {
    const { request, warnings } = callToRequest(options);
    const stream = this.#llm.stream(request);
    const events = stream[Symbol.asyncIterator]();
    const first = await events.next();
    const translator = new StreamTranslator();
    let pending: IteratorResult<StreamEvent> | undefined = first;

    const readable = new ReadableStream<LanguageModelV4StreamPart>({
      start(controller) {
        controller.enqueue({ type: 'stream-start', warnings: warnings satisfies SharedV4Warning[] });
      },
      async pull(controller) {
        try {
          // Events that carry no part (usage, finish) are read on: a pull that enqueues nothing is not repeated.
          for (;;) {
            const next = pending ?? (await events.next());
            pending = undefined;
            if (next.done) {
              const result = await stream.result;
              for (const part of translator.finish(result)) controller.enqueue(part);
              controller.close();
              return;
            }
            if (next.value.type === 'reset') {
              controller.enqueue({ type: 'error', error: new StreamRestartedError(next.value.reason) });
              controller.close();
              await events.return?.();
              return;
            }
            const parts = translator.translate(next.value);
            for (const part of parts) controller.enqueue(part);
            if (parts.length > 0) return;
          }
        } catch (error) {
          controller.enqueue({ type: 'error', error });
          controller.close();
        }
      },
      async cancel() {
        await events.return?.();
      },
    });
    return { stream: readable };
  }
}

/** Bulwark's neutral stream events as AI SDK stream parts (text blocks, tool inputs, finish). */
class StreamTranslator {
  #textOpen = false;
  #reasoningOpen = false;
  readonly #tools = new Map<number, { id: string; name: string; args: string }>();
  #usage: Usage | undefined;
  #finishReason: FinishReason = 'stop';
  #model: string | undefined;
  #responseId: string | undefined;

  #text(delta: string): LanguageModelV4StreamPart[] {
    if (delta === '') return [];
    const parts: LanguageModelV4StreamPart[] = [];
    if (!this.#textOpen) {
      this.#textOpen = true;
      parts.push({ type: 'text-start', id: 'text-0' });
    }
    parts.push({ type: 'text-delta', id: 'text-0', delta });
    return parts;
  }

  /** Reasoning deltas (Anthropic thinking, compatible servers' reasoning_content) as one reasoning block. */
  #reasoning(delta: string): LanguageModelV4StreamPart[] {
    if (delta === '') return [];
    const parts: LanguageModelV4StreamPart[] = [];
    if (!this.#reasoningOpen) {
      this.#reasoningOpen = true;
      parts.push({ type: 'reasoning-start', id: 'reasoning-0' });
    }
    parts.push({ type: 'reasoning-delta', id: 'reasoning-0', delta });
    return parts;
  }

  translate(event: Exclude<StreamEvent, { type: 'reset' }>): LanguageModelV4StreamPart[] {
    switch (event.type) {
      case 'text':
        return this.#text(event.delta);
      case 'reasoning':
        return this.#reasoning(event.delta);
      case 'tool_call': {
        const parts: LanguageModelV4StreamPart[] = [];
        let tool = this.#tools.get(event.index);
        if (tool === undefined) {
          tool = { id: event.id ?? `call-${event.index}`, name: event.name ?? '', args: '' };
          this.#tools.set(event.index, tool);
          parts.push({ type: 'tool-input-start', id: tool.id, toolName: tool.name });
        }
        if (event.argumentsDelta !== '') {
          tool.args += event.argumentsDelta;
          parts.push({ type: 'tool-input-delta', id: tool.id, delta: event.argumentsDelta });
        }
        return parts;
      }
      case 'usage':
        this.#usage = event.usage;
        return [];
      case 'finish':
        this.#finishReason = event.finishReason;
        this.#model = event.model;
        this.#responseId = event.responseId;
        return [];
    }
  }

  /**
   * The reasoning block stays open until the answer is complete: its end carries the turn's blocks
   * (known only then), which the next step of a tool loop hands back (see callToRequest).
   */
  #endReasoning(blocks: ReasoningBlock[] | undefined): LanguageModelV4StreamPart[] {
    if (!this.#reasoningOpen && !blocks?.length) return [];
    const parts: LanguageModelV4StreamPart[] = this.#reasoningOpen ? [] : [{ type: 'reasoning-start', id: 'reasoning-0' }];
    this.#reasoningOpen = false;
    parts.push({ type: 'reasoning-end', id: 'reasoning-0', providerMetadata: reasoningMetadata(blocks) });
    return parts;
  }

  finish(result: ChatResult): LanguageModelV4StreamPart[] {
    const parts: LanguageModelV4StreamPart[] = this.#endReasoning(result.reasoningBlocks);
    if (this.#textOpen) parts.push({ type: 'text-end', id: 'text-0' });
    for (const tool of this.#tools.values()) {
      parts.push({ type: 'tool-input-end', id: tool.id });
      parts.push({ type: 'tool-call', toolCallId: tool.id, toolName: tool.name, input: tool.args || '{}' });
    }
    const responseId = this.#responseId ?? result.responseId;
    parts.push({ type: 'response-metadata', ...(responseId !== undefined && { id: responseId }), modelId: this.#model ?? result.model });
    parts.push({
      type: 'finish',
      finishReason: finishReasonOf(result.finishReason ?? this.#finishReason),
      usage: usageOf(result.usage ?? this.#usage),
      providerMetadata: { bulwark: bulwarkMetadata(result) },
    });
    return parts;
  }
}

const FINISH_REASONS: Record<FinishReason, LanguageModelV4FinishReason['unified']> = {
  stop: 'stop',
  length: 'length',
  tool_calls: 'tool-calls',
  content_filter: 'content-filter',
  error: 'error',
  other: 'other',
};

function finishReasonOf(reason: FinishReason): LanguageModelV4FinishReason {
  return { unified: FINISH_REASONS[reason] ?? 'other', raw: reason };
}

function usageOf(usage: Usage | undefined): LanguageModelV4Usage {
  if (usage === undefined) {
    return {
      inputTokens: { total: undefined, noCache: undefined, cacheRead: undefined, cacheWrite: undefined },
      outputTokens: { total: undefined, text: undefined, reasoning: undefined },
    };
  }
  // Bulwark's breakdowns are parts of the totals, as the AI SDK's are.
  const { cacheReadTokens: cacheRead, cacheWriteTokens: cacheWrite, reasoningTokens: reasoning } = usage;
  return {
    inputTokens: { total: usage.inputTokens, noCache: usage.inputTokens - (cacheRead ?? 0) - (cacheWrite ?? 0), cacheRead, cacheWrite },
    outputTokens: { total: usage.outputTokens, text: reasoning === undefined ? undefined : usage.outputTokens - reasoning, reasoning },
  };
}

/** A reasoning part's metadata: the turn's blocks, so the next step carries them back (see callToRequest). */
function reasoningMetadata(blocks: ReasoningBlock[] | undefined): SharedV4ProviderMetadata {
  return { [REASONING_KEY]: { reasoningBlocks: (blocks ?? []).map((b) => ({ ...b })) as unknown as JSONObject[] } };
}

/** `providerMetadata.bulwark`: JSON only (no undefined values). */
function bulwarkMetadata(result: ChatResult): JSONObject {
  return {
    tier: result.tier,
    target: { provider: result.target.provider, model: result.target.model, index: result.target.index },
    attempts: result.attempts.map((a) => ({
      provider: a.provider,
      model: a.model,
      targetIndex: a.targetIndex,
      kind: a.kind,
      durationMs: a.durationMs,
      ...(a.errorType !== undefined && { errorType: a.errorType }),
      ...(a.delayMs !== undefined && { delayMs: a.delayMs }),
      ...(a.costUsd !== undefined && { costUsd: a.costUsd }),
    })),
    costUsd: result.costUsd,
    fallbackUsed: result.fallbackUsed,
    ...(result.warning !== undefined && { warning: result.warning }),
  };
}
