import { randomUUID } from 'node:crypto';
import type { CacheControl, ChatRequest, ChatResult, ContentPart, FinishReason, Message, ReasoningBlock, ResponseFormat, ToolCall, ToolChoice, ToolDefinition, Usage } from '../request/types.js';
import { factComment } from './facts.js';
import { FrontRequestError, type FailureKind, type FrontFailure } from './frontError.js';
import { array, boolean, isSet, number, object, refuseUnknown, string, type Json } from './nativeFields.js';
import { sseData, type FrontCall, type WireFront } from './wireFront.js';

/**
 * The Anthropic Messages wire (`POST …/v1/messages`): the body as `@anthropic-ai/sdk` sends it in,
 * a `message` or the SSE event sequence message_start … message_stop out. Every accepted field is
 * listed here; any other set field is a 400 naming it (README "Wire fronts" has the table).
 */
const BODY_FIELDS = new Set(['model', 'max_tokens', 'messages', 'system', 'tools', 'tool_choice', 'stop_sequences', 'temperature', 'top_p', 'stream', 'output_config', 'thinking']);

export const anthropicFront: WireFront = {
  name: 'anthropic',
  path: '/v1/messages',

  parse(raw): FrontCall {
    const body = object(raw, 'body');
    refuseUnknown(body, BODY_FIELDS, '');
    const model = string(body['model'], 'model');
    const messages: Message[] = [];
    if (isSet(body['system'])) messages.push(systemMessage(body['system']));
    array(body['messages'], 'messages').forEach((m, i) => messages.push(...message(m, `messages[${i}]`)));
    const request: ChatRequest = { messages };
    if (isSet(body['max_tokens'])) request.maxTokens = number(body['max_tokens'], 'max_tokens');
    if (isSet(body['tools'])) request.tools = array(body['tools'], 'tools').map((t, i) => tool(t, `tools[${i}]`));
    if (isSet(body['tool_choice'])) {
      const { choice, parallel } = toolChoice(body['tool_choice']);
      if (choice) request.toolChoice = choice;
      if (parallel !== undefined) request.parallelToolCalls = parallel;
    }
    if (isSet(body['temperature'])) request.temperature = number(body['temperature'], 'temperature');
    if (isSet(body['top_p'])) request.topP = number(body['top_p'], 'top_p');
    if (isSet(body['stop_sequences'])) request.stop = array(body['stop_sequences'], 'stop_sequences').map((s, i) => string(s, `stop_sequences[${i}]`));
    if (isSet(body['output_config'])) {
      const format = outputConfig(body['output_config']);
      if (format) request.responseFormat = format;
    }
    if (isSet(body['thinking'])) {
      const thinking = object(body['thinking'], 'thinking');
      if (thinking['type'] === 'enabled') {
        refuseUnknown(thinking, new Set(['type', 'budget_tokens']), 'thinking');
        request.reasoning = { budgetTokens: number(thinking['budget_tokens'], 'thinking.budget_tokens') };
      } else if (thinking['type'] === 'disabled') {
        refuseUnknown(thinking, new Set(['type']), 'thinking');
      } else {
        throw new FrontRequestError('thinking.type', `${JSON.stringify(thinking['type'])} is not supported by Bulwark (enabled, disabled)`);
      }
    }
    const stream = isSet(body['stream']) && boolean(body['stream'], 'stream');
    return { request, stream, model, includeUsage: true };
  },

  json(result, call) {
    return {
      id: messageId(result.responseId),
      type: 'message',
      role: 'assistant',
      model: result.model || call.model,
      content: contentBlocks(result),
      stop_reason: stopReason(result.finishReason),
      stop_sequence: null,
      usage: usage(result.usage),
    };
  },

  async *sse(events, call, result) {
    yield sseData(
      {
        type: 'message_start',
        message: { id: messageId(undefined), type: 'message', role: 'assistant', model: call.model, content: [], stop_reason: null, stop_sequence: null, usage: { input_tokens: 0, output_tokens: 0 } },
      },
      'message_start',
    );
    // Anthropic blocks are sequential: one open at a time, each closed before the next starts.
    let open: { block: number; kind: 'text' } | { block: number; kind: 'tool'; index: number } | undefined;
    let blocks = 0;
    const closed = new Set<number>();
    const close = function* () {
      if (!open) return;
      yield sseData({ type: 'content_block_stop', index: open.block }, 'content_block_stop');
      if (open.kind === 'tool') closed.add(open.index);
      open = undefined;
    };
    for await (const event of events) {
      if (event.type === 'text') {
        if (event.delta === '') continue;
        if (open?.kind !== 'text') {
          yield* close();
          open = { block: blocks++, kind: 'text' };
          yield sseData({ type: 'content_block_start', index: open.block, content_block: { type: 'text', text: '' } }, 'content_block_start');
        }
        yield sseData({ type: 'content_block_delta', index: open.block, delta: { type: 'text_delta', text: event.delta } }, 'content_block_delta');
      } else if (event.type === 'tool_call') {
        if (open?.kind !== 'tool' || open.index !== event.index) {
          if (closed.has(event.index)) throw new Error(`tool call ${event.index} resumed after another block started: not expressible as Anthropic content blocks`);
          yield* close();
          open = { block: blocks++, kind: 'tool', index: event.index };
          const block = { type: 'tool_use', id: event.id ?? `toolu_${randomUUID().replaceAll('-', '')}`, name: event.name ?? '', input: {} };
          yield sseData({ type: 'content_block_start', index: open.block, content_block: block }, 'content_block_start');
        }
        if (event.argumentsDelta !== '') {
          yield sseData({ type: 'content_block_delta', index: open.block, delta: { type: 'input_json_delta', partial_json: event.argumentsDelta } }, 'content_block_delta');
        }
      }
      // 'usage' and 'finish' events: the final result carries both, whole.
    }
    yield* close();
    const done = await result;
    yield sseData({ type: 'message_delta', delta: { stop_reason: stopReason(done.finishReason), stop_sequence: null }, usage: usage(done.usage) }, 'message_delta');
    yield sseData({ type: 'message_stop' }, 'message_stop');
    yield factComment(done);
  },

  errorBody(failure) {
    return { type: 'error', error: errorObject(failure) };
  },

  errorEvent(failure) {
    return sseData({ type: 'error', error: errorObject(failure) }, 'error');
  },
};

const ERROR_TYPES: Record<FailureKind, string> = {
  invalid_request: 'invalid_request_error',
  not_found: 'not_found_error',
  rate_limit: 'rate_limit_error',
  overloaded: 'overloaded_error',
  timeout: 'api_error',
  unavailable: 'api_error',
  upstream: 'api_error',
  cancelled: 'invalid_request_error',
  internal: 'api_error',
  authentication: 'authentication_error',
  too_large: 'request_too_large',
  // Anthropic has no 429 of its own for a spent budget: a rate-limit error, with x-should-retry: false.
  quota: 'rate_limit_error',
};

function errorObject(failure: FrontFailure) {
  return { type: ERROR_TYPES[failure.kind], message: failure.message };
}

function messageId(responseId: string | undefined): string {
  return responseId?.startsWith('msg_') ? responseId : `msg_${randomUUID().replaceAll('-', '')}`;
}

function stopReason(reason: FinishReason): string {
  switch (reason) {
    case 'length':
      return 'max_tokens';
    case 'tool_calls':
      return 'tool_use';
    case 'content_filter':
      return 'refusal';
    default:
      return 'end_turn';
  }
}

/** Bulwark counts cache reads and writes inside inputTokens; Anthropic's input_tokens is the rest. */
function usage(u: Usage) {
  const cacheRead = u.cacheReadTokens ?? 0;
  const cacheWrite = u.cacheWriteTokens ?? 0;
  return { input_tokens: Math.max(0, u.inputTokens - cacheRead - cacheWrite), output_tokens: u.outputTokens, cache_creation_input_tokens: cacheWrite, cache_read_input_tokens: cacheRead };
}

/**
 * Signed thinking blocks (and redacted ones) come back as Anthropic blocks, so a client can carry
 * them into the next turn; reasoning without a signature (another provider's) has no block a client
 * could send back, and is left out.
 */
function contentBlocks(result: ChatResult): Json[] {
  const blocks: Json[] = [];
  for (const r of result.reasoningBlocks ?? []) {
    if (r.redacted !== undefined) blocks.push({ type: 'redacted_thinking', data: r.redacted });
    else if (r.signature !== undefined) blocks.push({ type: 'thinking', thinking: r.text, signature: r.signature });
  }
  if (result.text !== '' || result.toolCalls.length === 0) blocks.push({ type: 'text', text: result.text });
  for (const call of result.toolCalls) blocks.push({ type: 'tool_use', id: call.id, name: call.name, input: toolInput(call) });
  return blocks;
}

function toolInput(call: ToolCall): unknown {
  try {
    return call.arguments === '' ? {} : JSON.parse(call.arguments);
  } catch {
    throw new Error(`the model's arguments for tool ${call.name} are not JSON`);
  }
}

/** Anthropic's `cache_control: { type: 'ephemeral', ttl? }` as a Bulwark cache breakpoint. */
function cacheControl(block: Json, at: string): CacheControl | undefined {
  if (!isSet(block['cache_control'])) return undefined;
  const cc = object(block['cache_control'], `${at}.cache_control`);
  refuseUnknown(cc, new Set(['type', 'ttl']), `${at}.cache_control`);
  if (cc['type'] !== 'ephemeral') throw new FrontRequestError(`${at}.cache_control.type`, 'must be "ephemeral"');
  if (!isSet(cc['ttl'])) return {};
  if (cc['ttl'] !== '5m' && cc['ttl'] !== '1h') throw new FrontRequestError(`${at}.cache_control.ttl`, 'must be "5m" or "1h"');
  return { ttl: cc['ttl'] };
}

/** Only the whole prompt's end can carry a breakpoint here: Bulwark's system message is one string. */
function systemMessage(value: unknown): Message {
  if (typeof value === 'string') return { role: 'system', content: value };
  const blocks = array(value, 'system');
  let cache: CacheControl | undefined;
  const text = blocks
    .map((b, i) => {
      const at = `system[${i}]`;
      const block = object(b, at);
      if (block['type'] !== 'text') throw new FrontRequestError(`${at}.type`, `content block ${JSON.stringify(block['type'])} is not supported here by Bulwark`);
      refuseUnknown(block, new Set(['type', 'text', 'cache_control']), at);
      const cc = cacheControl(block, at);
      if (cc && i !== blocks.length - 1) throw new FrontRequestError(`${at}.cache_control`, 'is supported by Bulwark on the last system block only');
      cache = cc;
      return string(block['text'], `${at}.text`);
    })
    .join('');
  return cache ? { role: 'system', content: text, cacheControl: cache } : { role: 'system', content: text };
}

/** A string, or text blocks (any other block type, and cache_control, refused naming it). */
function textBlocks(value: unknown, path: string): string {
  if (typeof value === 'string') return value;
  return array(value, path)
    .map((b, i) => {
      const block = object(b, `${path}[${i}]`);
      if (block['type'] !== 'text') throw new FrontRequestError(`${path}[${i}].type`, `content block ${JSON.stringify(block['type'])} is not supported here by Bulwark`);
      refuseUnknown(block, new Set(['type', 'text']), `${path}[${i}]`);
      return string(block['text'], `${path}[${i}].text`);
    })
    .join('');
}

/** One Anthropic message is one or more Bulwark messages: a user turn's tool_result blocks become tool messages. */
function message(raw: unknown, path: string): Message[] {
  const m = object(raw, path);
  refuseUnknown(m, new Set(['role', 'content']), path);
  const role = m['role'];
  const content = m['content'];
  if (role === 'user') {
    if (typeof content === 'string') return [{ role: 'user', content }];
    const out: Message[] = [];
    const parts: ContentPart[] = [];
    array(content, `${path}.content`).forEach((b, i) => {
      const at = `${path}.content[${i}]`;
      const block = object(b, at);
      if (block['type'] === 'tool_result') {
        refuseUnknown(block, new Set(['type', 'tool_use_id', 'content', 'cache_control']), at, { is_error: (v) => v === false });
        const result = block['content'];
        const blocks = !isSet(result) ? '' : typeof result === 'string' ? result : compact(array(result, `${at}.content`).map((r, j) => contentPart(r, `${at}.content[${j}]`)));
        const cache = cacheControl(block, at);
        out.push({ role: 'tool', toolCallId: string(block['tool_use_id'], `${at}.tool_use_id`), content: blocks, ...(cache && { cacheControl: cache }) });
      } else {
        parts.push(contentPart(block, at));
      }
    });
    if (parts.length > 0) out.push({ role: 'user', content: compact(parts) });
    return out;
  }
  if (role === 'assistant') {
    if (typeof content === 'string') return [{ role: 'assistant', content }];
    const texts: string[] = [];
    const toolCalls: ToolCall[] = [];
    const reasoning: ReasoningBlock[] = [];
    array(content, `${path}.content`).forEach((b, i) => {
      const at = `${path}.content[${i}]`;
      const block = object(b, at);
      if (block['type'] === 'thinking') {
        refuseUnknown(block, new Set(['type', 'thinking', 'signature']), at);
        reasoning.push({ provider: 'anthropic', text: string(block['thinking'], `${at}.thinking`), signature: string(block['signature'], `${at}.signature`) });
      } else if (block['type'] === 'redacted_thinking') {
        refuseUnknown(block, new Set(['type', 'data']), at);
        reasoning.push({ provider: 'anthropic', text: '', redacted: string(block['data'], `${at}.data`) });
      } else if (block['type'] === 'text') {
        refuseUnknown(block, new Set(['type', 'text']), at);
        texts.push(string(block['text'], `${at}.text`));
      } else if (block['type'] === 'tool_use') {
        refuseUnknown(block, new Set(['type', 'id', 'name', 'input']), at);
        toolCalls.push({ id: string(block['id'], `${at}.id`), name: string(block['name'], `${at}.name`), arguments: JSON.stringify(object(block['input'], `${at}.input`)) });
      } else {
        throw new FrontRequestError(`${at}.type`, `content block ${JSON.stringify(block['type'])} is not supported by Bulwark`);
      }
    });
    return [{ role: 'assistant', content: texts.length > 0 ? texts.join('') : null, ...(toolCalls.length > 0 && { toolCalls }), ...(reasoning.length > 0 && { reasoning }) }];
  }
  throw new FrontRequestError(`${path}.role`, `${JSON.stringify(role)} is not supported (user, assistant)`);
}

/** Text only stays a string; with an image, a document or a cache breakpoint the parts stay parts. */
function compact(parts: ContentPart[]): string | ContentPart[] {
  return parts.every((p) => p.type === 'text' && !p.cacheControl) ? parts.map((p) => (p as { text: string }).text).join('') : parts;
}

function withCache<T extends ContentPart>(part: T, cache: CacheControl | undefined): T {
  return cache ? { ...part, cacheControl: cache } : part;
}

/**
 * A user content block: text, image (base64 or URL source), document (base64 PDF, plain text or
 * URL source). `cache_control`, `citations`, `title`, `context` and file-id sources have no Bulwark
 * equivalent and are refused.
 */
function contentPart(raw: unknown, at: string): ContentPart {
  const block = object(raw, at);
  switch (block['type']) {
    case 'text':
      refuseUnknown(block, new Set(['type', 'text', 'cache_control']), at);
      return withCache({ type: 'text', text: string(block['text'], `${at}.text`) }, cacheControl(block, at));
    case 'image': {
      refuseUnknown(block, new Set(['type', 'source', 'cache_control']), at);
      const source = mediaSource(block['source'], `${at}.source`);
      return withCache(source.kind === 'url' ? { type: 'image', image: source.url } : { type: 'image', image: source.dataUrl, mediaType: source.mediaType }, cacheControl(block, at));
    }
    case 'document': {
      refuseUnknown(block, new Set(['type', 'source', 'cache_control']), at);
      const source = mediaSource(block['source'], `${at}.source`);
      return withCache(source.kind === 'url' ? { type: 'file', data: source.url, mediaType: 'application/pdf' } : { type: 'file', data: source.dataUrl, mediaType: source.mediaType }, cacheControl(block, at));
    }
    default:
      throw new FrontRequestError(`${at}.type`, `content block ${JSON.stringify(block['type'])} is not supported by Bulwark`);
  }
}

function mediaSource(raw: unknown, at: string): { kind: 'url'; url: string } | { kind: 'data'; dataUrl: string; mediaType: string } {
  const source = object(raw, at);
  switch (source['type']) {
    case 'url':
      refuseUnknown(source, new Set(['type', 'url']), at);
      return { kind: 'url', url: string(source['url'], `${at}.url`) };
    case 'base64': {
      refuseUnknown(source, new Set(['type', 'media_type', 'data']), at);
      const mediaType = string(source['media_type'], `${at}.media_type`);
      return { kind: 'data', mediaType, dataUrl: `data:${mediaType};base64,${string(source['data'], `${at}.data`)}` };
    }
    case 'text': {
      refuseUnknown(source, new Set(['type', 'media_type', 'data']), at);
      const mediaType = isSet(source['media_type']) ? string(source['media_type'], `${at}.media_type`) : 'text/plain';
      return { kind: 'data', mediaType, dataUrl: `data:${mediaType};base64,${Buffer.from(string(source['data'], `${at}.data`), 'utf8').toString('base64')}` };
    }
    default:
      throw new FrontRequestError(`${at}.type`, `source ${JSON.stringify(source['type'])} is not supported by Bulwark`);
  }
}

function tool(raw: unknown, path: string): ToolDefinition {
  const t = object(raw, path);
  refuseUnknown(t, new Set(['name', 'description', 'input_schema']), path, { type: (v) => v === 'custom' });
  const out: ToolDefinition = { name: string(t['name'], `${path}.name`), parameters: object(t['input_schema'], `${path}.input_schema`) };
  if (isSet(t['description'])) out.description = string(t['description'], `${path}.description`);
  return out;
}

/** `disable_parallel_tool_use` is `parallelToolCalls` inverted. */
function toolChoice(raw: unknown): { choice: ToolChoice; parallel?: boolean } {
  const choice = object(raw, 'tool_choice');
  refuseUnknown(choice, new Set(['type', 'name', 'disable_parallel_tool_use']), 'tool_choice');
  const parallel = isSet(choice['disable_parallel_tool_use']) ? !boolean(choice['disable_parallel_tool_use'], 'tool_choice.disable_parallel_tool_use') : undefined;
  const withParallel = (c: ToolChoice) => (parallel === undefined ? { choice: c } : { choice: c, parallel });
  switch (choice['type']) {
    case 'auto':
      return withParallel('auto');
    case 'none':
      return withParallel('none');
    case 'any':
      return withParallel('required');
    case 'tool':
      return withParallel({ name: string(choice['name'], 'tool_choice.name') });
    default:
      throw new FrontRequestError('tool_choice.type', `${JSON.stringify(choice['type'])} is not supported by Bulwark`);
  }
}

function outputConfig(raw: unknown): ResponseFormat | undefined {
  const config = object(raw, 'output_config');
  refuseUnknown(config, new Set(['format']), 'output_config');
  if (!isSet(config['format'])) return undefined;
  const format = object(config['format'], 'output_config.format');
  refuseUnknown(format, new Set(['type', 'schema']), 'output_config.format');
  if (format['type'] !== 'json_schema') throw new FrontRequestError('output_config.format.type', `${JSON.stringify(format['type'])} is not supported by Bulwark (json_schema)`);
  return { type: 'json', schema: object(format['schema'], 'output_config.format.schema') };
}
