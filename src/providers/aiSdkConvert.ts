import type {
  LanguageModelV4CallOptions,
  LanguageModelV4FilePart,
  LanguageModelV4FinishReason,
  LanguageModelV4GenerateResult,
  LanguageModelV4Message,
  LanguageModelV4StreamPart,
  LanguageModelV4ToolResultPart,
  LanguageModelV4Usage,
} from '@ai-sdk/provider';
import { contentText, partMediaType, partSource, resolveSource } from '../request/contentParts.js';
import { ownReasoning, reasoningEffort } from '../validation/reasoning.js';
import type { ChatRequest, ContentPart, FinishReason, ProviderResponse, ReasoningBlock, StreamEvent, ToolCall, Usage } from '../request/types.js';
import { adapterError } from './errorMapping.js';
import type { ChunkMapper } from './sdkStream.js';

/**
 * Bulwark's neutral request as an AI SDK call (LanguageModelV4CallOptions), and the model's answer
 * back. Only types come from `@ai-sdk/provider`: this file loads nothing of the AI SDK.
 */

interface Ctx {
  provider: string;
  model: string;
  /** The model's AI SDK provider id (`anthropic.messages`); its first segment keys the provider's options. */
  providerId: string;
}

const optionsKey = (ctx: Ctx) => ctx.providerId.split('.')[0] ?? ctx.providerId;

/**
 * A reasoning block as the AI SDK provider reports it: the text, and the signature / redacted data in
 * the provider's metadata (`providerMetadata.anthropic.signature`, `.redactedData`). Only blocks that
 * carry one are kept (they are what the provider needs back); plain reasoning text is `reasoning`.
 */
function blockOf(text: string, metadata: Record<string, unknown> | undefined, ctx: Ctx): ReasoningBlock | undefined {
  const own = metadata?.[optionsKey(ctx)] as { signature?: unknown; redactedData?: unknown } | undefined;
  const signature = typeof own?.signature === 'string' ? own.signature : undefined;
  const redacted = typeof own?.redactedData === 'string' ? own.redactedData : undefined;
  if (signature === undefined && redacted === undefined) return undefined;
  return { provider: ctx.provider, text, ...(signature !== undefined && { signature }), ...(redacted !== undefined && { redacted }) };
}

export function toAiSdkCall(request: ChatRequest, signal: AbortSignal, ctx: Ctx): LanguageModelV4CallOptions {
  const call: LanguageModelV4CallOptions = { prompt: toPrompt(request, ctx), abortSignal: signal };
  if (request.reasoning !== undefined) call.reasoning = reasoningEffort(request.reasoning);
  if (request.maxTokens !== undefined) call.maxOutputTokens = request.maxTokens;
  if (request.temperature !== undefined) call.temperature = request.temperature;
  if (request.topP !== undefined) call.topP = request.topP;
  if (request.stop !== undefined && request.stop.length > 0) call.stopSequences = [...request.stop];
  // The model's own JSON mode; the chain parses and validates the answer whatever the provider does.
  if (request.responseFormat !== undefined) {
    const { schema, name } = request.responseFormat;
    call.responseFormat = { type: 'json', schema: schema as never, ...(name !== undefined && { name }) };
  }
  if (request.tools !== undefined && request.tools.length > 0) {
    call.tools = request.tools.map((tool) => ({
      type: 'function' as const,
      name: tool.name,
      ...(tool.description !== undefined && { description: tool.description }),
      inputSchema: { type: 'object', ...tool.parameters },
    }));
    if (request.toolChoice !== undefined) {
      const choice = request.toolChoice;
      call.toolChoice = typeof choice === 'string' ? { type: choice } : { type: 'tool', toolName: choice.name };
    }
  }
  return call;
}

function toPrompt(request: ChatRequest, ctx: Ctx): LanguageModelV4Message[] {
  const prompt: LanguageModelV4Message[] = [];
  /** Tool names by call id: an AI SDK tool result names its tool, a Bulwark tool message does not. */
  const toolNames = new Map<string, string>();
  for (const message of request.messages) {
    switch (message.role) {
      case 'system':
      case 'developer':
        prompt.push({ role: 'system', content: message.content });
        break;
      case 'user':
        prompt.push({ role: 'user', content: typeof message.content === 'string' ? [{ type: 'text', text: message.content }] : message.content.map(toAiSdkPart) });
        break;
      case 'assistant': {
        const content: Extract<LanguageModelV4Message, { role: 'assistant' }>['content'] = [];
        // This provider's own reasoning blocks go back first, signature intact; other providers' are left out.
        for (const block of ownReasoning(message.reasoning, ctx.provider)) {
          const own = { ...(block.signature !== undefined && { signature: block.signature }), ...(block.redacted !== undefined && { redactedData: block.redacted }) };
          content.push({ type: 'reasoning', text: block.text, providerOptions: { [optionsKey(ctx)]: own } });
        }
        if (message.content) content.push({ type: 'text', text: message.content });
        for (const call of message.toolCalls ?? []) {
          toolNames.set(call.id, call.name);
          content.push({ type: 'tool-call', toolCallId: call.id, toolName: call.name, input: parseArguments(call.arguments) });
        }
        prompt.push({ role: 'assistant', content });
        break;
      }
      case 'tool': {
        const part: LanguageModelV4ToolResultPart = {
          type: 'tool-result',
          toolCallId: message.toolCallId,
          toolName: toolNames.get(message.toolCallId) ?? '',
          output:
            typeof message.content === 'string' || message.content.every((p) => p.type === 'text')
              ? { type: 'text', value: contentText(message.content) }
              : { type: 'content', value: message.content.map(toAiSdkPart) },
        };
        // The results of one turn's calls travel together (Gemini answers a turn's calls in one turn).
        const last = prompt.at(-1);
        if (last?.role === 'tool') last.content.push(part);
        else prompt.push({ role: 'tool', content: [part] });
        break;
      }
    }
  }
  return prompt;
}

/** A content part as the AI SDK's: images and files are both `file` parts (bytes or a URL), typed by media type. */
function toAiSdkPart(part: ContentPart): { type: 'text'; text: string } | LanguageModelV4FilePart {
  if (part.type === 'text') return { type: 'text', text: part.text };
  const source = resolveSource(partSource(part));
  // Validation has checked every part; an unusable one cannot get here.
  if (!source) throw new TypeError('content part without a usable source');
  const mediaType = partMediaType(part, source) ?? 'image';
  return {
    type: 'file',
    mediaType,
    data: source.kind === 'url' ? { type: 'url', url: new URL(source.url) } : { type: 'data', data: source.bytes },
    ...(part.type === 'file' && part.filename !== undefined && { filename: part.filename }),
  };
}

/** The AI SDK passes tool inputs as values; a model's arguments that are not JSON go as the raw text. */
function parseArguments(text: string): unknown {
  if (text.trim() === '') return {};
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

const FINISH_REASONS: Record<LanguageModelV4FinishReason['unified'], FinishReason> = {
  stop: 'stop',
  length: 'length',
  'content-filter': 'content_filter',
  'tool-calls': 'tool_calls',
  error: 'error',
  interrupted: 'other',
  other: 'other',
};

function finishReasonOf(reason: LanguageModelV4FinishReason | undefined): FinishReason {
  return (reason && FINISH_REASONS[reason.unified]) ?? 'other';
}

function usageOf(usage: LanguageModelV4Usage | undefined): Usage | undefined {
  if (usage === undefined || (usage.inputTokens.total === undefined && usage.outputTokens.total === undefined)) return undefined;
  return {
    inputTokens: usage.inputTokens.total ?? 0,
    outputTokens: usage.outputTokens.total ?? 0,
    ...(usage.inputTokens.cacheRead !== undefined && { cacheReadTokens: usage.inputTokens.cacheRead }),
    ...(usage.inputTokens.cacheWrite !== undefined && { cacheWriteTokens: usage.inputTokens.cacheWrite }),
    ...(usage.outputTokens.reasoning !== undefined && { reasoningTokens: usage.outputTokens.reasoning }),
  };
}

export function fromAiSdkResult(result: LanguageModelV4GenerateResult, ctx: Ctx): ProviderResponse {
  let text = '';
  let reasoning = '';
  const blocks: ReasoningBlock[] = [];
  const toolCalls: ToolCall[] = [];
  for (const part of result.content) {
    if (part.type === 'text') text += part.text;
    else if (part.type === 'reasoning') {
      reasoning += part.text;
      const block = blockOf(part.text, part.providerMetadata, ctx);
      if (block) blocks.push(block);
    }
    else if (part.type === 'tool-call' && part.providerExecuted !== true) {
      toolCalls.push({ id: part.toolCallId, name: part.toolName, arguments: part.input });
    }
  }
  const finishReason = finishReasonOf(result.finishReason);
  if (finishReason === 'content_filter' && text === '' && toolCalls.length === 0) {
    throw adapterError(ctx, 'content_filtered', `${ctx.provider} refused to answer (content filter)`);
  }
  const usage = usageOf(result.usage);
  return {
    text,
    toolCalls,
    finishReason,
    ...(usage && { usage }),
    model: result.response?.modelId || ctx.model,
    ...(result.response?.id && { responseId: result.response.id }),
    ...(reasoning !== '' && { reasoning }),
    ...(blocks.length > 0 && { reasoningBlocks: blocks }),
  };
}

/**
 * AI SDK stream parts as Bulwark stream events. Tool inputs stream as `tool-input-*` parts (each call
 * a Bulwark index); a model that only sends the final `tool-call` part gets it as one delta. An `error`
 * part is thrown (the stream driver classifies it); a stream that ends without `finish` is cut.
 */
export class AiSdkStreamMapper implements ChunkMapper<LanguageModelV4StreamPart> {
  readonly #ctx: Ctx;
  readonly #toolIndex = new Map<string, number>();
  #finished = false;
  #model: string | undefined;
  #responseId: string | undefined;
  /** Reasoning text per open reasoning block id, and the finished blocks that carry a signature. */
  readonly #reasoningText = new Map<string, string>();
  /** Provider metadata seen on a block's parts (Anthropic sends the signature on a delta, not on the end). */
  readonly #reasoningMeta = new Map<string, Record<string, unknown>>();
  readonly #blocks: ReasoningBlock[] = [];

  constructor(ctx: Ctx) {
    this.#ctx = ctx;
  }

  push(part: LanguageModelV4StreamPart): StreamEvent[] {
    switch (part.type) {
      case 'text-delta':
        return part.delta === '' ? [] : [{ type: 'text', delta: part.delta }];
      case 'reasoning-start':
        this.#reasoningText.set(part.id, '');
        return [];
      case 'reasoning-delta':
        this.#reasoningText.set(part.id, (this.#reasoningText.get(part.id) ?? '') + part.delta);
        if (part.providerMetadata) this.#mergeMeta(part.id, part.providerMetadata);
        return part.delta === '' ? [] : [{ type: 'reasoning', delta: part.delta }];
      case 'reasoning-end': {
        if (part.providerMetadata) this.#mergeMeta(part.id, part.providerMetadata);
        const block = blockOf(this.#reasoningText.get(part.id) ?? '', this.#reasoningMeta.get(part.id), this.#ctx);
        if (block) this.#blocks.push(block);
        this.#reasoningText.delete(part.id);
        this.#reasoningMeta.delete(part.id);
        return [];
      }
      case 'tool-input-start': {
        if (part.providerExecuted === true) return [];
        const index = this.#toolIndex.size;
        this.#toolIndex.set(part.id, index);
        return [{ type: 'tool_call', index, id: part.id, name: part.toolName, argumentsDelta: '' }];
      }
      case 'tool-input-delta': {
        const index = this.#toolIndex.get(part.id);
        return index === undefined || part.delta === '' ? [] : [{ type: 'tool_call', index, argumentsDelta: part.delta }];
      }
      case 'tool-call': {
        if (part.providerExecuted === true || this.#toolIndex.has(part.toolCallId)) return [];
        const index = this.#toolIndex.size;
        this.#toolIndex.set(part.toolCallId, index);
        return [{ type: 'tool_call', index, id: part.toolCallId, name: part.toolName, argumentsDelta: part.input }];
      }
      case 'response-metadata':
        if (part.modelId) this.#model = part.modelId;
        if (part.id) this.#responseId = part.id;
        return [];
      case 'finish': {
        this.#finished = true;
        const events: StreamEvent[] = [];
        const usage = usageOf(part.usage);
        if (usage) events.push({ type: 'usage', usage });
        events.push({
          type: 'finish',
          finishReason: finishReasonOf(part.finishReason),
          model: this.#model ?? this.#ctx.model,
          ...(this.#responseId !== undefined && { responseId: this.#responseId }),
          ...(this.#blocks.length > 0 && { reasoningBlocks: [...this.#blocks] }),
        });
        return events;
      }
      case 'error':
        throw part.error;
      default:
        return [];
    }
  }

  #mergeMeta(id: string, metadata: Record<string, Record<string, unknown>>): void {
    const seen = this.#reasoningMeta.get(id) ?? {};
    for (const [key, value] of Object.entries(metadata)) seen[key] = { ...(seen[key] as object | undefined), ...value };
    this.#reasoningMeta.set(id, seen);
  }

  end(): StreamEvent[] {
    if (!this.#finished) throw adapterError(this.#ctx, 'connection', `${this.#ctx.provider} stream ended before its finish part`);
    return [];
  }
}
