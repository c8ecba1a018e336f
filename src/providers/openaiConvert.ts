import type {
  ChatCompletionContentPart,
  ChatCompletionContentPartText,
  ChatCompletionCreateParamsNonStreaming,
  ChatCompletionMessageParam,
  ChatCompletionTool,
  ChatCompletionToolChoiceOption,
} from 'openai/resources/chat/completions';
import { contentText, partMediaType, partSource, resolveSource, toDataUrl } from '../request/contentParts.js';
import type {
  ChatRequest,
  ContentPart,
  FilePart,
  FinishReason,
  ImagePart,
  Message,
  ProviderResponse,
  StreamEvent,
  ToolCall,
  Usage,
} from '../request/types.js';
import { reasoningEffort } from '../validation/reasoning.js';
import { adapterError } from './errorMapping.js';
import { isTokenCount, neutralResponse } from './neutralResponse.js';

export type MaxTokensParam = 'max_tokens' | 'max_completion_tokens';

export interface OpenAIConvertContext {
  provider: string;
  model: string;
  maxTokensParam: MaxTokensParam;
}

type Ctx = Pick<OpenAIConvertContext, 'provider' | 'model'>;

// ---------------------------------------------------------------------------------------------
// Neutral request → Chat Completions params

export function toOpenAIParams(request: ChatRequest, ctx: OpenAIConvertContext): ChatCompletionCreateParamsNonStreaming {
  const params: ChatCompletionCreateParamsNonStreaming = {
    model: ctx.model,
    messages: toOpenAIMessages(request.messages, ctx),
  };
  if (request.tools && request.tools.length > 0) {
    params.tools = request.tools.map(
      (t): ChatCompletionTool => ({
        type: 'function',
        function: {
          name: t.name,
          ...(t.description !== undefined && { description: t.description }),
          parameters: t.parameters,
        },
      }),
    );
    // tool_choice without tools is a 400 on OpenAI; only send it alongside them.
    if (request.toolChoice !== undefined) params.tool_choice = toOpenAIToolChoice(request.toolChoice);
    if (request.parallelToolCalls !== undefined) params.parallel_tool_calls = request.parallelToolCalls;
  }
  if (request.maxTokens !== undefined) params[ctx.maxTokensParam] = request.maxTokens;
  if (request.temperature !== undefined) params.temperature = request.temperature;
  if (request.topP !== undefined) params.top_p = request.topP;
  if (request.stop !== undefined && request.stop.length > 0) params.stop = request.stop;
  addOpenAIOutputOptions(params, request);
  return params;
}

/**
 * Messages in order. Chat Completions takes only text in a tool message: the images and files of a
 * tool result go in one user message right after the run of tool messages (which must stay
 * together after their assistant turn), introduced by a text part naming the tool calls.
 */
function toOpenAIMessages(messages: readonly Message[], ctx: Ctx): ChatCompletionMessageParam[] {
  const out: ChatCompletionMessageParam[] = [];
  let attachments: ChatCompletionContentPart[] = [];
  let attachedTo: string[] = [];
  const flush = () => {
    if (attachments.length === 0) return;
    const intro: ChatCompletionContentPartText = { type: 'text', text: `Attachments of the tool result${attachedTo.length > 1 ? 's' : ''} ${attachedTo.join(', ')}:` };
    out.push({ role: 'user', content: [intro, ...attachments] });
    attachments = [];
    attachedTo = [];
  };
  messages.forEach((m, index) => {
    if (m.role !== 'tool') flush();
    if (m.role === 'tool' && typeof m.content !== 'string') {
      const parts = m.content.map((p, j) => toOpenAIPart(p, `messages[${index}].content[${j}]`, ctx));
      const text = parts.filter((p): p is ChatCompletionContentPartText => p.type === 'text');
      const other = parts.filter((p) => p.type !== 'text');
      if (other.length > 0) {
        attachments.push(...other);
        attachedTo.push(m.toolCallId);
      }
      const note = other.length > 0 ? [{ type: 'text' as const, text: `[${other.length} attachment${other.length > 1 ? 's' : ''} in the next user message]` }] : [];
      out.push({ role: 'tool', tool_call_id: m.toolCallId, content: [...text, ...note] });
      return;
    }
    out.push(toOpenAIMessage(m, index, ctx));
  });
  flush();
  return out;
}

// ---------------------------------------------------------------------------------------------
// Structured output, reasoning (issue 12 part B)

/** `responseFormat` → `response_format: json_schema`. */
function addOpenAIOutputOptions(params: ChatCompletionCreateParamsNonStreaming, request: ChatRequest): void {
  const format = request.responseFormat;
  if (format) {
    params.response_format = {
      type: 'json_schema',
      json_schema: { name: format.name ?? 'response', schema: format.schema, ...(format.strict !== undefined && { strict: format.strict }) },
    };
  }
  if (request.reasoning) params.reasoning_effort = reasoningEffort(request.reasoning);
}

/**
 * Reasoning text of a message or stream delta. OpenAI's Chat Completions returns none (only its token
 * count); OpenAI-compatible reasoning servers send `reasoning_content` (DeepSeek, vLLM) or `reasoning`
 * (Ollama, OpenRouter). It is never sent back: those servers want it left out of the history.
 */
function reasoningTextOf(message: Loose): string | undefined {
  const text = message['reasoning_content'] ?? message['reasoning'];
  return typeof text === 'string' && text !== '' ? text : undefined;
}

function toOpenAIMessage(m: Message, index: number, ctx: Ctx): ChatCompletionMessageParam {
  switch (m.role) {
    case 'system':
    case 'developer':
      return { role: 'system', content: m.content };
    case 'user':
      return {
        role: 'user',
        content: typeof m.content === 'string' ? m.content : m.content.map((p, j) => toOpenAIPart(p, `messages[${index}].content[${j}]`, ctx)),
      };
    case 'assistant': {
      const toolCalls = m.toolCalls ?? [];
      const content = m.content === undefined || m.content === null || (m.content === '' && toolCalls.length > 0) ? null : m.content;
      return {
        role: 'assistant',
        content,
        ...(toolCalls.length > 0 && {
          tool_calls: toolCalls.map((c) => ({
            id: c.id,
            type: 'function' as const,
            // OpenAI wants JSON text; an empty string is how some servers say "no arguments".
            function: { name: c.name, arguments: c.arguments === '' ? '{}' : c.arguments },
          })),
        }),
      };
    }
    case 'tool':
      // Multi-part tool results are converted by toOpenAIMessages.
      return { role: 'tool', tool_call_id: m.toolCallId, content: contentText(m.content) };
    default:
      throw adapterError(ctx, 'bad_request', `messages[${index}] has an unknown role ${JSON.stringify((m as { role?: unknown }).role)}`);
  }
}

// ---------------------------------------------------------------------------------------------
// Content parts → Chat Completions parts (image_url, file)

function toOpenAIPart(part: ContentPart, at: string, ctx: Ctx): ChatCompletionContentPart {
  if (part.type === 'text') return { type: 'text', text: part.text };
  const source = resolveSource(partSource(part));
  if (!source) throw adapterError(ctx, 'bad_request', `${at} has no usable ${part.type === 'image' ? 'image' : 'data'} (a URL, data URL or bytes)`);
  if (part.type === 'image') {
    if (source.kind === 'url') return { type: 'image_url', image_url: { url: source.url } };
    return { type: 'image_url', image_url: { url: inlineDataUrl(part, at, ctx) } };
  }
  // Chat Completions takes a file inline (file_data) or by uploaded id, never by URL: such a target is skipped before the call.
  if (source.kind === 'url') throw adapterError(ctx, 'bad_request', `${at}: OpenAI Chat Completions takes files only inline (data URL or bytes), not by URL`);
  return { type: 'file', file: { file_data: inlineDataUrl(part, at, ctx), filename: part.filename ?? defaultFilename(part.mediaType) } };
}

/** A base64 data URL of the part: the caller's own when it already is one with the right type, else built once. */
function inlineDataUrl(part: ImagePart | FilePart, at: string, ctx: Ctx): string {
  const given = partSource(part);
  const source = resolveSource(given);
  const mediaType = source && partMediaType(part, source);
  if (!source || source.kind !== 'bytes' || mediaType === undefined) throw adapterError(ctx, 'bad_request', `${at} needs a mediaType`);
  if (typeof given === 'string' && given.startsWith(`data:${mediaType};base64,`)) return given;
  return toDataUrl(mediaType, source.bytes);
}

/** OpenAI wants a filename with inline file data; one is made up from the media type when the part has none. */
function defaultFilename(mediaType: string): string {
  const ext = /\/(?:x-)?([a-z0-9]+)$/i.exec(mediaType)?.[1]?.toLowerCase();
  return ext ? `attachment.${ext}` : 'attachment';
}

function toOpenAIToolChoice(choice: NonNullable<ChatRequest['toolChoice']>): ChatCompletionToolChoiceOption {
  if (typeof choice === 'string') return choice;
  return { type: 'function', function: { name: choice.name } };
}

// ---------------------------------------------------------------------------------------------
// Chat Completions answer → neutral response

type Loose = Record<string, unknown>;
const isObj = (v: unknown): v is Loose => v !== null && typeof v === 'object' && !Array.isArray(v);

export function mapOpenAIFinishReason(reason: unknown): FinishReason {
  switch (reason) {
    case 'stop':
      return 'stop';
    case 'length':
      return 'length';
    case 'tool_calls':
    case 'function_call':
      return 'tool_calls';
    case 'content_filter':
      return 'content_filter';
    default:
      return 'other';
  }
}

export function openAIUsage(raw: unknown): Usage | undefined {
  if (!isObj(raw)) return undefined;
  const input = raw['prompt_tokens'];
  const output = raw['completion_tokens'];
  // Costs are computed from these: a count that is not a whole number >= 0 is no count at all.
  if (!isTokenCount(input) || !isTokenCount(output)) return undefined;
  // prompt_tokens already includes the cached and the cache-written ones, completion_tokens the
  // reasoning ones: the details only say how many of them were which.
  const detail = (group: string, key: string): number | undefined => {
    const details = raw[group];
    const n = isObj(details) ? details[key] : undefined;
    return isTokenCount(n) && n > 0 ? n : undefined;
  };
  const cacheRead = detail('prompt_tokens_details', 'cached_tokens');
  const cacheWrite = detail('prompt_tokens_details', 'cache_write_tokens');
  const reasoning = detail('completion_tokens_details', 'reasoning_tokens');
  return {
    inputTokens: input,
    outputTokens: output,
    ...(cacheRead !== undefined && { cacheReadTokens: cacheRead }),
    ...(cacheWrite !== undefined && { cacheWriteTokens: cacheWrite }),
    ...(reasoning !== undefined && { reasoningTokens: reasoning }),
  };
}

/**
 * Validates and converts a (non-streamed) chat completion. The SDK hands back whatever the server
 * sent (undefined for an empty body, a string for a non-JSON content type), so the shape is checked
 * here: anything unusable is `malformed_response`; a refusal is `content_filtered`.
 */
export function fromOpenAICompletion(body: unknown, ctx: Ctx): ProviderResponse {
  const malformed = (why: string) => adapterError(ctx, 'malformed_response', `Malformed chat completion from the provider: ${why}`);
  if (!isObj(body)) throw malformed(body === undefined || body === '' ? 'empty body' : `expected a JSON object, got ${typeof body}`);
  const requestId = typeof body['_request_id'] === 'string' ? body['_request_id'] : undefined;
  const choices = body['choices'];
  if (!Array.isArray(choices) || choices.length === 0) throw malformed('no choices');
  const choice: unknown = choices[0];
  if (!isObj(choice) || !isObj(choice['message'])) throw malformed('choices[0].message is missing');
  const message = choice['message'];
  const content = message['content'];
  if (content !== null && content !== undefined && typeof content !== 'string') throw malformed('message.content is not a string');

  const toolCalls: ToolCall[] = [];
  const rawCalls = message['tool_calls'];
  if (rawCalls !== undefined && rawCalls !== null) {
    if (!Array.isArray(rawCalls)) throw malformed('message.tool_calls is not an array');
    for (const call of rawCalls) {
      if (!isObj(call) || !isObj(call['function']) || typeof call['function']['name'] !== 'string' || typeof call['id'] !== 'string') {
        throw malformed('a tool call lacks id / function.name');
      }
      const args = call['function']['arguments'];
      toolCalls.push({
        id: call['id'],
        name: call['function']['name'],
        arguments: typeof args === 'string' ? args : JSON.stringify(args ?? {}),
      });
    }
  }

  let finishReason = mapOpenAIFinishReason(choice['finish_reason']);
  const text = typeof content === 'string' ? content : '';
  const refusal = message['refusal'];
  if (finishReason === 'content_filter' || (typeof refusal === 'string' && refusal !== '' && text === '' && toolCalls.length === 0)) {
    throw adapterError(
      ctx,
      'content_filtered',
      typeof refusal === 'string' && refusal !== '' ? `The model refused: ${refusal}` : 'The provider filtered the answer (finish_reason content_filter).',
      { providerCode: 'content_filter', ...(requestId && { requestId }) },
    );
  }
  // Some OpenAI-compatible servers (older Ollama, some vLLM parsers) say 'stop' while returning tool calls.
  if (finishReason === 'stop' && toolCalls.length > 0) finishReason = 'tool_calls';

  const usage = openAIUsage(body['usage']);
  const reasoning = reasoningTextOf(message);
  return neutralResponse(body, { text, toolCalls, finishReason, usage, ...(reasoning !== undefined && { reasoning }) }, ctx.model);
}

// ---------------------------------------------------------------------------------------------
// Streamed chunks → neutral events

/**
 * Turns `chat.completion.chunk`s into StreamEvents. Usage (sent in a last chunk with no choices when
 * `stream_options.include_usage` is on) and finish are emitted by `end()`, so `finish` is always the
 * last event and carries the final model / id.
 */
export class OpenAIStreamMapper {
  private finishReason: FinishReason | undefined;
  private usage: Usage | undefined;
  private model: string | undefined;
  private responseId: string | undefined;
  private sawContent = false;
  private sawToolCalls = false;
  private refusal = '';
  /** Tool-call index of each id seen, one past the highest index seen, and the latest call. */
  private readonly callIndexById = new Map<string, number>();
  private nextCallIndex = 0;
  private lastCallIndex: number | undefined;

  constructor(private readonly ctx: Ctx) {}

  /**
   * The tool call a delta belongs to. OpenAI numbers them (`index`); Gemini's OpenAI-compatible
   * endpoint, older Ollama, some vLLM parsers and proxies leave `index` out. Then an id seen before
   * is that call, a new id or a name (only a call's first delta has one) starts the next call, and
   * a bare piece of arguments continues the latest call.
   */
  private callIndex(call: Loose): number {
    const raw = call['index'];
    const id = typeof call['id'] === 'string' && call['id'] !== '' ? call['id'] : undefined;
    let index: number;
    if (raw !== undefined && raw !== null) {
      if (typeof raw !== 'number' || !Number.isSafeInteger(raw) || raw < 0) {
        throw adapterError(this.ctx, 'malformed_response', 'Malformed stream chunk from the provider: tool call delta with an invalid index');
      }
      index = raw;
    } else if (id !== undefined) {
      index = this.callIndexById.get(id) ?? this.nextCallIndex;
    } else {
      const fn = call['function'];
      const named = isObj(fn) && typeof fn['name'] === 'string' && fn['name'] !== '';
      index = named || this.lastCallIndex === undefined ? this.nextCallIndex : this.lastCallIndex;
    }
    if (id !== undefined) this.callIndexById.set(id, index);
    this.nextCallIndex = Math.max(this.nextCallIndex, index + 1);
    this.lastCallIndex = index;
    return index;
  }

  push(chunk: unknown): StreamEvent[] {
    if (!isObj(chunk)) throw adapterError(this.ctx, 'malformed_response', 'Malformed stream chunk from the provider: not an object');
    if (typeof chunk['model'] === 'string' && chunk['model'] !== '') this.model = chunk['model'];
    if (typeof chunk['id'] === 'string' && chunk['id'] !== '') this.responseId = chunk['id'];
    const usage = openAIUsage(chunk['usage']);
    if (usage) this.usage = usage;

    const events: StreamEvent[] = [];
    const choices = chunk['choices'];
    if (choices === undefined || choices === null) return events;
    if (!Array.isArray(choices)) throw adapterError(this.ctx, 'malformed_response', 'Malformed stream chunk from the provider: choices is not an array');
    for (const choice of choices) {
      if (!isObj(choice) || (choice['index'] !== undefined && choice['index'] !== 0)) continue;
      const delta = choice['delta'];
      if (isObj(delta)) {
        const reasoning = reasoningTextOf(delta);
        if (reasoning !== undefined) events.push({ type: 'reasoning', delta: reasoning });
        if (typeof delta['content'] === 'string' && delta['content'] !== '') {
          this.sawContent = true;
          events.push({ type: 'text', delta: delta['content'] });
        }
        if (typeof delta['refusal'] === 'string') this.refusal += delta['refusal'];
        const calls = delta['tool_calls'];
        if (Array.isArray(calls)) {
          for (const call of calls) {
            if (!isObj(call)) throw adapterError(this.ctx, 'malformed_response', 'Malformed stream chunk from the provider: a tool call delta is not an object');
            const index = this.callIndex(call);
            this.sawContent = true;
            this.sawToolCalls = true;
            const fn = isObj(call['function']) ? call['function'] : {};
            events.push({
              type: 'tool_call',
              index,
              ...(typeof call['id'] === 'string' && call['id'] !== '' && { id: call['id'] }),
              ...(typeof fn['name'] === 'string' && fn['name'] !== '' && { name: fn['name'] }),
              argumentsDelta: typeof fn['arguments'] === 'string' ? fn['arguments'] : '',
            });
          }
        }
      }
      const reason = choice['finish_reason'];
      if (reason !== null && reason !== undefined) {
        this.finishReason = mapOpenAIFinishReason(reason);
        if (this.finishReason === 'content_filter') throw this.refusalError();
      }
    }
    return events;
  }

  /** Call when the SDK stream ended without error. Throws if the answer is incomplete or a refusal. */
  end(): StreamEvent[] {
    if (this.finishReason === undefined) {
      throw adapterError(this.ctx, 'connection', 'The stream ended before the provider sent a finish_reason (connection cut?).');
    }
    if (!this.sawContent && this.refusal !== '') throw this.refusalError();
    if (this.finishReason === 'stop' && this.sawToolCalls) this.finishReason = 'tool_calls';
    const events: StreamEvent[] = [];
    if (this.usage) events.push({ type: 'usage', usage: this.usage });
    events.push({
      type: 'finish',
      finishReason: this.finishReason,
      ...(this.model !== undefined && { model: this.model }),
      ...(this.responseId !== undefined && { responseId: this.responseId }),
    });
    return events;
  }

  private refusalError() {
    return adapterError(
      this.ctx,
      'content_filtered',
      this.refusal !== '' ? `The model refused: ${this.refusal}` : 'The provider filtered the answer (finish_reason content_filter).',
      { providerCode: 'content_filter' },
    );
  }
}
