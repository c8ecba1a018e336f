import type {
  Base64ImageSource,
  CacheControlEphemeral,
  ContentBlockParam,
  DocumentBlockParam,
  ImageBlockParam,
  MessageCreateParamsNonStreaming,
  MessageParam,
  TextBlockParam,
  Tool,
  ToolChoice,
} from '@anthropic-ai/sdk/resources/messages';
import { partMediaType, resolveSource, toBase64 } from '../request/contentParts.js';
import { anthropicCacheControl } from '../validation/promptCache.js';
import { ownReasoning, thinkingBudget } from '../validation/reasoning.js';
import type { CacheControl, ChatRequest, ContentPart, FinishReason, ProviderResponse, ReasoningBlock, StreamEvent, ToolCall, Usage } from '../request/types.js';
import { adapterError } from './errorMapping.js';
import { isTokenCount, neutralResponse } from './neutralResponse.js';

export interface AnthropicConvertContext {
  provider: string;
  model: string;
  /** Anthropic requires max_tokens; used when the request has none. */
  defaultMaxTokens: number;
  /** See `AnthropicTargetOptions.sendSamplingParams`. Default false. */
  sendSamplingParams?: boolean;
}

/** The Messages params plus the sampling fields API version 2023-06-01 still accepts. */
export type AnthropicParams = MessageCreateParamsNonStreaming & { temperature?: number; top_p?: number };

type Ctx = Pick<AnthropicConvertContext, 'provider' | 'model'>;
type Loose = Record<string, unknown>;
const isObj = (v: unknown): v is Loose => v !== null && typeof v === 'object' && !Array.isArray(v);

// ---------------------------------------------------------------------------------------------
// Neutral request → Messages API params

/**
 * Converts an OpenAI-style conversation for the Messages API:
 * - every system message goes to the top-level `system` prompt (joined by blank lines, in order);
 * - tool results become `tool_result` blocks of a user turn; consecutive results share one turn;
 * - assistant tool calls become `tool_use` blocks with parsed `input`;
 * - consecutive turns of the same role are merged (the API wants user/assistant alternation), and
 *   inside a user turn the tool results come first, as the API requires;
 * - empty / whitespace-only text is dropped (the API rejects empty text blocks);
 * - tool-call ids from other providers are kept, with characters outside `[A-Za-z0-9_-]` replaced
 *   (the same way on the call and on its result, so they still pair up).
 */
export function toAnthropicParams(request: ChatRequest, ctx: AnthropicConvertContext): AnthropicParams {
  const system: string[] = [];
  /** The cacheControl of each system entry: any → `system` goes as blocks carrying the breakpoints. */
  const systemCache: Array<CacheControl | undefined> = [];
  const turns: Array<{ role: 'user' | 'assistant'; content: ContentBlockParam[] }> = [];
  const append = (role: 'user' | 'assistant', blocks: ContentBlockParam[]) => {
    if (blocks.length === 0) return;
    const last = turns[turns.length - 1];
    if (last && last.role === role) last.content.push(...blocks);
    else turns.push({ role, content: [...blocks] });
  };

  request.messages.forEach((m, index) => {
    switch (m.role) {
      case 'system':
      case 'developer':
        if (m.content.trim() !== '') {
          system.push(m.content);
          systemCache.push(m.cacheControl);
        }
        break;
      case 'user':
        append('user', withCache(typeof m.content === 'string' ? textBlocks(m.content) : toAnthropicBlocks(m.content, `messages[${index}]`, ctx), m.cacheControl));
        break;
      case 'assistant': {
        // Thinking blocks first, as the API wants them: only this provider's own (see foreignReasoning).
        const blocks: ContentBlockParam[] = [...thinkingBlocks(m.reasoning, ctx.provider), ...textBlocks(m.content ?? '')];
        for (const call of m.toolCalls ?? []) {
          blocks.push({ type: 'tool_use', id: anthropicToolId(call.id), name: call.name, input: parseToolArguments(call.arguments) });
        }
        append('assistant', withCache(blocks, m.cacheControl));
        break;
      }
      case 'tool': {
        const content = typeof m.content === 'string' ? m.content : (toAnthropicBlocks(m.content, `messages[${index}]`, ctx) as ToolResultContent);
        append(
          'user',
          withCache(
            [
              {
                type: 'tool_result',
                tool_use_id: anthropicToolId(m.toolCallId),
                ...(content.length > 0 && { content }),
              },
            ],
            m.cacheControl,
          ),
        );
        break;
      }
      default:
        throw adapterError(ctx, 'bad_request', `messages[${index}] has an unknown role ${JSON.stringify((m as { role?: unknown }).role)}`);
    }
  });

  const messages: MessageParam[] = turns.map((t) => ({
    role: t.role,
    content: t.role === 'user' ? toolResultsFirst(t.content) : t.content,
  }));

  const params: AnthropicParams = {
    model: ctx.model,
    max_tokens: request.maxTokens ?? ctx.defaultMaxTokens,
    messages,
  };
  if (system.length > 0) params.system = systemCache.some(Boolean) ? systemBlocks(system, systemCache) : system.join('\n\n');
  if (request.tools && request.tools.length > 0) {
    params.tools = request.tools.map(
      (t): Tool => ({
        name: t.name,
        ...(t.description !== undefined && { description: t.description }),
        input_schema: { type: 'object', ...t.parameters } as Tool.InputSchema,
      }),
    );
    if (request.toolChoice !== undefined) params.tool_choice = toAnthropicToolChoice(request.toolChoice);
    if (request.parallelToolCalls !== undefined) {
      // Anthropic says it the other way round, on tool_choice (which 'none' has no room for).
      const choice = params.tool_choice ?? { type: 'auto' };
      if (choice.type !== 'none') params.tool_choice = { ...choice, disable_parallel_tool_use: !request.parallelToolCalls };
    }
  }
  // API version 2026-10-21 rejects sampling parameters outright (400), so they are dropped unless the
  // target says its client still speaks 2023-06-01.
  if (ctx.sendSamplingParams) {
    if (request.temperature !== undefined) {
      // OpenAI accepts 0–2, Anthropic 0–1: a request written for OpenAI must not become a 400 here.
      params.temperature = Math.min(1, Math.max(0, request.temperature));
    }
    // Recent Claude models reject temperature and top_p together; temperature wins when both are set.
    if (request.topP !== undefined && request.temperature === undefined) params.top_p = request.topP;
  }
  if (request.stop !== undefined && request.stop.length > 0) params.stop_sequences = request.stop;
  addAnthropicOutputOptions(params, request, ctx);
  return params;
}

// ---------------------------------------------------------------------------------------------
// Content parts → image / document blocks

type ToolResultContent = Exclude<Extract<ContentBlockParam, { type: 'tool_result' }>['content'], undefined>;
type PartBlock = Extract<ContentBlockParam, { type: 'text' }> | ImageBlockParam | DocumentBlockParam;

/** Text (whitespace-only dropped, as for string content), images and documents, base64 or by URL. */
function toAnthropicBlocks(parts: readonly ContentPart[], at: string, ctx: Ctx): PartBlock[] {
  const blocks: PartBlock[] = [];
  parts.forEach((part, j) => {
    const before = blocks.length;
    addPartBlock(part, j);
    // A part's cache breakpoint goes on the block it became (a whitespace-only text part becomes none).
    if (part.cacheControl && blocks.length > before) withCache(blocks, part.cacheControl);
  });
  return blocks;

  function addPartBlock(part: ContentPart, j: number): void {
    const where = `${at}.content[${j}]`;
    if (part.type === 'text') {
      if (part.text.trim() !== '') blocks.push({ type: 'text', text: part.text });
      return;
    }
    const source = resolveSource(part.type === 'image' ? part.image : part.data);
    if (!source) throw adapterError(ctx, 'bad_request', `${where} has no usable ${part.type === 'image' ? 'image' : 'data'} (a URL, data URL or bytes)`);
    const mediaType = partMediaType(part, source);
    if (part.type === 'image') {
      if (source.kind === 'url') return void blocks.push({ type: 'image', source: { type: 'url', url: source.url } });
      if (mediaType === undefined) throw adapterError(ctx, 'bad_request', `${where} needs a mediaType`);
      // The API names the four types it takes; any other is the API's to refuse, as given.
      blocks.push({ type: 'image', source: { type: 'base64', media_type: mediaType as Base64ImageSource['media_type'], data: toBase64(source.bytes) } });
      return;
    }
    const title = part.filename !== undefined ? { title: part.filename } : {};
    if (source.kind === 'url') return void blocks.push({ type: 'document', source: { type: 'url', url: source.url }, ...title });
    if (mediaType === 'text/plain') {
      const text = Buffer.from(source.bytes.buffer, source.bytes.byteOffset, source.bytes.byteLength).toString('utf8');
      return void blocks.push({ type: 'document', source: { type: 'text', media_type: 'text/plain', data: text }, ...title });
    }
    blocks.push({ type: 'document', source: { type: 'base64', media_type: (mediaType ?? part.mediaType) as 'application/pdf', data: toBase64(source.bytes) }, ...title });
  }
}

// Prompt caching, structured output, reasoning (issue 12 part B)

/** Puts a cache breakpoint on the last of a message's blocks (everything up to it is the cached prefix). */
function withCache<B extends ContentBlockParam>(blocks: B[], hint: CacheControl | undefined): B[] {
  const last = blocks[blocks.length - 1];
  if (hint && last && last.type !== 'thinking' && last.type !== 'redacted_thinking') {
    (last as { cache_control?: CacheControlEphemeral }).cache_control = anthropicCacheControl(hint);
  }
  return blocks;
}

/** System prompts as text blocks, when one of them carries a cache breakpoint. */
function systemBlocks(texts: string[], hints: Array<CacheControl | undefined>): TextBlockParam[] {
  return texts.map((text, i) => {
    const hint = hints[i];
    return { type: 'text', text, ...(hint && { cache_control: anthropicCacheControl(hint) }) };
  });
}

/**
 * `responseFormat` → the native structured output, `output_config.format: json_schema` (the pinned
 * SDK has it; no forced tool needed, so the answer stays text and tool use stays the caller's).
 */
function addAnthropicOutputOptions(params: AnthropicParams, request: ChatRequest, ctx: AnthropicConvertContext): void {
  const format = request.responseFormat;
  if (format) params.output_config = { ...params.output_config, format: { type: 'json_schema', schema: format.schema } };
  if (request.reasoning) {
    // The budget is part of max_tokens: without a maxTokens the answer keeps the default on top of it.
    const { budgetTokens, maxTokens } = thinkingBudget(request.reasoning, request.maxTokens, ctx.defaultMaxTokens);
    params.thinking = { type: 'enabled', budget_tokens: budgetTokens };
    params.max_tokens = maxTokens;
  }
}

/** An assistant turn's own thinking blocks, exactly as Anthropic returned them. */
function thinkingBlocks(reasoning: readonly ReasoningBlock[] | undefined, provider: string): ContentBlockParam[] {
  return ownReasoning(reasoning, provider).map((b): ContentBlockParam =>
    b.redacted !== undefined ? { type: 'redacted_thinking', data: b.redacted } : { type: 'thinking', thinking: b.text, signature: b.signature ?? '' },
  );
}

/** A thinking / redacted_thinking block of an answer as a ReasoningBlock; undefined for any other block. */
function reasoningBlockOf(block: Loose, provider: string): ReasoningBlock | undefined {
  if (block['type'] === 'thinking' && typeof block['thinking'] === 'string') {
    return { provider, text: block['thinking'], ...(typeof block['signature'] === 'string' && { signature: block['signature'] }) };
  }
  if (block['type'] === 'redacted_thinking' && typeof block['data'] === 'string') return { provider, text: '', redacted: block['data'] };
  return undefined;
}

function textBlocks(text: string): ContentBlockParam[] {
  return text.trim() === '' ? [] : [{ type: 'text', text }];
}

function toolResultsFirst(blocks: ContentBlockParam[]): ContentBlockParam[] {
  return [...blocks.filter((b) => b.type === 'tool_result'), ...blocks.filter((b) => b.type !== 'tool_result')];
}

/** Anthropic ids must match ^[a-zA-Z0-9_-]+$; OpenAI's `call_…` already do, other servers' may not. */
export function anthropicToolId(id: string): string {
  const cleaned = id.replace(/[^a-zA-Z0-9_-]/g, '_');
  return cleaned === '' ? 'tool_call' : cleaned;
}

/**
 * `tool_use.input` must be an object. Arguments that are not a JSON object (a model cut off mid-call,
 * a server that sends a bare string) are kept as text under `_raw_arguments` rather than failing the
 * whole hop: the conversation history is still what it was.
 */
export function parseToolArguments(text: string): Record<string, unknown> {
  if (text.trim() === '') return {};
  try {
    const parsed: unknown = JSON.parse(text);
    if (isObj(parsed)) return parsed;
  } catch {
    // fall through
  }
  return { _raw_arguments: text };
}

function toAnthropicToolChoice(choice: NonNullable<ChatRequest['toolChoice']>): ToolChoice {
  switch (choice) {
    case 'auto':
      return { type: 'auto' };
    case 'none':
      return { type: 'none' };
    case 'required':
      return { type: 'any' };
    default:
      return { type: 'tool', name: choice.name };
  }
}

// ---------------------------------------------------------------------------------------------
// Messages API answer → neutral response

export function mapAnthropicStopReason(reason: unknown): FinishReason {
  switch (reason) {
    case 'end_turn':
    case 'stop_sequence':
      return 'stop';
    case 'max_tokens':
    case 'model_context_window_exceeded':
      return 'length';
    case 'tool_use':
      return 'tool_calls';
    case 'refusal':
      return 'content_filter';
    default:
      return 'other';
  }
}

interface RawUsage {
  input?: number;
  output?: number;
  cacheRead?: number;
  cacheCreation?: number;
  thinking?: number;
}

function readUsage(raw: unknown, into: RawUsage = {}): RawUsage {
  if (!isObj(raw)) return into;
  // Costs are computed from these: a count that is not a whole number >= 0 is no count at all.
  const num = (k: string) => (isTokenCount(raw[k]) ? raw[k] : undefined);
  into.input = num('input_tokens') ?? into.input;
  into.output = num('output_tokens') ?? into.output;
  into.cacheRead = num('cache_read_input_tokens') ?? into.cacheRead;
  into.cacheCreation = num('cache_creation_input_tokens') ?? into.cacheCreation;
  const details = raw['output_tokens_details'];
  if (isObj(details) && isTokenCount(details['thinking_tokens'])) into.thinking = details['thinking_tokens'];
  return into;
}

/**
 * Anthropic's `input_tokens` counts only the uncached part of the prompt. Neutral `inputTokens` is the
 * whole prompt, as OpenAI's `prompt_tokens` is (and as the GenAI conventions count it): input + cache
 * reads + cache writes, with `cacheReadTokens` / `cacheWriteTokens` saying which parts were which.
 * `output_tokens` already includes the thinking tokens (`reasoningTokens`).
 */
function toUsage(u: RawUsage): Usage | undefined {
  if (u.input === undefined && u.output === undefined) return undefined;
  const cacheRead = u.cacheRead ?? 0;
  const cacheWrite = u.cacheCreation ?? 0;
  return {
    inputTokens: (u.input ?? 0) + cacheRead + cacheWrite,
    outputTokens: u.output ?? 0,
    ...(cacheRead > 0 && { cacheReadTokens: cacheRead }),
    ...(cacheWrite > 0 && { cacheWriteTokens: cacheWrite }),
    ...(u.thinking !== undefined && u.thinking > 0 && { reasoningTokens: u.thinking }),
  };
}

export function anthropicUsage(raw: unknown): Usage | undefined {
  return toUsage(readUsage(raw));
}

function refusalError(ctx: Ctx, requestId?: string) {
  return adapterError(ctx, 'content_filtered', 'The model refused to answer (stop_reason refusal).', {
    providerCode: 'refusal',
    ...(requestId && { requestId }),
  });
}

/** Validates and converts a Message. Unusable shapes are `malformed_response`; a refusal is `content_filtered`. */
export function fromAnthropicMessage(body: unknown, ctx: Ctx): ProviderResponse {
  const malformed = (why: string) => adapterError(ctx, 'malformed_response', `Malformed message from the provider: ${why}`);
  if (!isObj(body)) throw malformed(body === undefined || body === '' ? 'empty body' : `expected a JSON object, got ${typeof body}`);
  const requestId = typeof body['_request_id'] === 'string' ? body['_request_id'] : undefined;
  const content = body['content'];
  if (!Array.isArray(content)) throw malformed('content is missing');

  let text = '';
  const toolCalls: ToolCall[] = [];
  const reasoningBlocks: ReasoningBlock[] = [];
  for (const block of content) {
    if (!isObj(block) || typeof block['type'] !== 'string') throw malformed('a content block has no type');
    if (block['type'] === 'text') {
      if (typeof block['text'] !== 'string') throw malformed('a text block has no text');
      text += block['text'];
    } else if (block['type'] === 'tool_use') {
      if (typeof block['id'] !== 'string' || typeof block['name'] !== 'string') throw malformed('a tool_use block lacks id / name');
      toolCalls.push({ id: block['id'], name: block['name'], arguments: JSON.stringify(block['input'] ?? {}) });
    }
    const reasoning = reasoningBlockOf(block, ctx.provider);
    if (reasoning) reasoningBlocks.push(reasoning);
    // server tool blocks: not part of the neutral answer.
  }

  const finishReason = mapAnthropicStopReason(body['stop_reason']);
  if (finishReason === 'content_filter') throw refusalError(ctx, requestId);
  const usage = anthropicUsage(body['usage']);
  const reasoning = reasoningBlocks.map((b) => b.text).join('');
  return neutralResponse(body, { text, toolCalls, finishReason, usage, reasoning, reasoningBlocks }, ctx.model);
}

// ---------------------------------------------------------------------------------------------
// Raw stream events → neutral events

/**
 * Turns raw Messages stream events into StreamEvents. Tool calls are numbered 0, 1, … in the order
 * their `tool_use` blocks start (content-block indexes also count text blocks). Usage and finish are
 * emitted by `end()`, after `message_stop`.
 */
export class AnthropicStreamMapper {
  private readonly usage: RawUsage = {};
  private readonly toolBlocks = new Map<number, { index: number; argumentChars: number }>();
  private toolCount = 0;
  private stopReason: FinishReason | undefined;
  private stopped = false;
  private model: string | undefined;
  private responseId: string | undefined;
  /** Thinking blocks in order, and the one each content-block index is filling. */
  private readonly reasoningBlocks: ReasoningBlock[] = [];
  private readonly thinkingByIndex = new Map<number, ReasoningBlock>();

  constructor(private readonly ctx: Ctx) {}

  /** thinking / redacted_thinking blocks: kept whole for the finish event, their text streamed as reasoning. */
  private startReasoning(block: Loose, blockIndex: number): StreamEvent[] {
    const reasoning = reasoningBlockOf(block, this.ctx.provider);
    if (!reasoning) return [];
    this.reasoningBlocks.push(reasoning);
    this.thinkingByIndex.set(blockIndex, reasoning);
    return reasoning.text === '' ? [] : [{ type: 'reasoning', delta: reasoning.text }];
  }

  private reasoningDelta(delta: Loose, blockIndex: unknown): StreamEvent[] {
    const block = typeof blockIndex === 'number' ? this.thinkingByIndex.get(blockIndex) : undefined;
    if (!block) return [];
    if (delta['type'] === 'thinking_delta' && typeof delta['thinking'] === 'string' && delta['thinking'] !== '') {
      block.text += delta['thinking'];
      return [{ type: 'reasoning', delta: delta['thinking'] }];
    }
    if (delta['type'] === 'signature_delta' && typeof delta['signature'] === 'string') block.signature = delta['signature'];
    return [];
  }

  push(event: unknown): StreamEvent[] {
    const malformed = (why: string) => adapterError(this.ctx, 'malformed_response', `Malformed stream event from the provider: ${why}`);
    if (!isObj(event) || typeof event['type'] !== 'string') throw malformed('no type');
    switch (event['type']) {
      case 'message_start': {
        const message = event['message'];
        if (!isObj(message)) throw malformed('message_start without message');
        if (typeof message['id'] === 'string') this.responseId = message['id'];
        if (typeof message['model'] === 'string') this.model = message['model'];
        readUsage(message['usage'], this.usage);
        return [];
      }
      case 'content_block_start': {
        const block = event['content_block'];
        const blockIndex = event['index'];
        if (!isObj(block) || typeof blockIndex !== 'number') throw malformed('content_block_start without content_block / index');
        if (block['type'] === 'tool_use') {
          const index = this.toolCount++;
          this.toolBlocks.set(blockIndex, { index, argumentChars: 0 });
          return [
            {
              type: 'tool_call',
              index,
              ...(typeof block['id'] === 'string' && { id: block['id'] }),
              ...(typeof block['name'] === 'string' && { name: block['name'] }),
              argumentsDelta: '',
            },
          ];
        }
        if (block['type'] === 'text' && typeof block['text'] === 'string' && block['text'] !== '') {
          return [{ type: 'text', delta: block['text'] }];
        }
        return this.startReasoning(block, blockIndex);
      }
      case 'content_block_delta': {
        const delta = event['delta'];
        if (!isObj(delta)) throw malformed('content_block_delta without delta');
        if (delta['type'] === 'text_delta' && typeof delta['text'] === 'string') {
          return delta['text'] === '' ? [] : [{ type: 'text', delta: delta['text'] }];
        }
        if (delta['type'] === 'input_json_delta' && typeof delta['partial_json'] === 'string') {
          const tool = typeof event['index'] === 'number' ? this.toolBlocks.get(event['index']) : undefined;
          if (!tool) throw malformed('input_json_delta for a block that is not a tool_use');
          if (delta['partial_json'] === '') return [];
          tool.argumentChars += delta['partial_json'].length;
          return [{ type: 'tool_call', index: tool.index, argumentsDelta: delta['partial_json'] }];
        }
        return this.reasoningDelta(delta, event['index']); // thinking / signature deltas; citations are ignored
      }
      case 'content_block_stop': {
        const tool = typeof event['index'] === 'number' ? this.toolBlocks.get(event['index']) : undefined;
        // A tool called without arguments streams no input_json_delta; the non-streamed answer has `{}`.
        if (tool && tool.argumentChars === 0) {
          tool.argumentChars = 2;
          return [{ type: 'tool_call', index: tool.index, argumentsDelta: '{}' }];
        }
        return [];
      }
      case 'message_delta': {
        const delta = event['delta'];
        if (isObj(delta) && delta['stop_reason'] !== null && delta['stop_reason'] !== undefined) {
          this.stopReason = mapAnthropicStopReason(delta['stop_reason']);
          if (this.stopReason === 'content_filter') throw refusalError(this.ctx);
        }
        readUsage(event['usage'], this.usage);
        return [];
      }
      case 'message_stop':
        this.stopped = true;
        return [];
      default:
        return []; // ping and event types added later
    }
  }

  /** Call when the SDK stream ended without error. Throws if `message_stop` never came. */
  end(): StreamEvent[] {
    if (!this.stopped) {
      throw adapterError(this.ctx, 'connection', 'The stream ended before message_stop (connection cut?).');
    }
    const events: StreamEvent[] = [];
    const usage = toUsage(this.usage);
    if (usage) events.push({ type: 'usage', usage });
    events.push({
      type: 'finish',
      finishReason: this.stopReason ?? 'other',
      ...(this.model !== undefined && { model: this.model }),
      ...(this.responseId !== undefined && { responseId: this.responseId }),
      ...(this.reasoningBlocks.length > 0 && { reasoningBlocks: this.reasoningBlocks }),
    });
    return events;
  }
}
