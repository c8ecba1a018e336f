import { randomUUID } from 'node:crypto';
import { parseDataUrl } from '../request/contentParts.js';
import type { AssistantMessage, ChatRequest, ChatResult, ContentPart, FinishReason, Message, ReasoningEffort, ResponseFormat, ToolCall, ToolChoice, ToolDefinition, Usage } from '../request/types.js';
import { factComment } from './facts.js';
import { FrontRequestError, type FailureKind, type FrontFailure } from './frontError.js';
import { array, boolean, isSet, number, object, refuseUnknown, string, type Json } from './nativeFields.js';
import { sseData, type FrontCall, type WireFront } from './wireFront.js';

/**
 * The OpenAI Chat Completions wire (`POST …/chat/completions`): the request body as the `openai`
 * client sends it in, `chat.completion` / `chat.completion.chunk` out. Every accepted field is
 * listed here; any other set field is a 400 naming it (README "Wire fronts" has the table).
 */
const BODY_FIELDS = new Set(['model', 'messages', 'tools', 'tool_choice', 'parallel_tool_calls', 'temperature', 'top_p', 'max_tokens', 'max_completion_tokens', 'stop', 'stream', 'stream_options', 'response_format', 'reasoning_effort']);
/** Fields accepted only with the value that changes nothing. */
const NEUTRAL_FIELDS: Record<string, (v: unknown) => boolean> = {
  n: (v) => v === 1,
  store: (v) => v === false,
  logprobs: (v) => v === false,
};

export const openaiFront: WireFront = {
  name: 'openai',
  path: '/chat/completions',

  parse(raw): FrontCall {
    const body = object(raw, 'body');
    refuseUnknown(body, BODY_FIELDS, '', NEUTRAL_FIELDS);
    const model = string(body['model'], 'model');
    const request: ChatRequest = { messages: array(body['messages'], 'messages').map((m, i) => message(m, `messages[${i}]`)) };
    if (isSet(body['tools'])) request.tools = array(body['tools'], 'tools').map((t, i) => tool(t, `tools[${i}]`));
    if (isSet(body['tool_choice'])) request.toolChoice = toolChoice(body['tool_choice']);
    if (isSet(body['parallel_tool_calls'])) request.parallelToolCalls = boolean(body['parallel_tool_calls'], 'parallel_tool_calls');
    if (isSet(body['temperature'])) request.temperature = number(body['temperature'], 'temperature');
    if (isSet(body['top_p'])) request.topP = number(body['top_p'], 'top_p');
    const maxTokens = isSet(body['max_completion_tokens']) ? number(body['max_completion_tokens'], 'max_completion_tokens') : undefined;
    const legacyMax = isSet(body['max_tokens']) ? number(body['max_tokens'], 'max_tokens') : undefined;
    if (maxTokens !== undefined && legacyMax !== undefined && maxTokens !== legacyMax) throw new FrontRequestError('max_tokens', 'conflicts with max_completion_tokens: send one');
    if ((maxTokens ?? legacyMax) !== undefined) request.maxTokens = (maxTokens ?? legacyMax)!;
    if (isSet(body['stop'])) {
      const stop = body['stop'];
      request.stop = typeof stop === 'string' ? [stop] : array(stop, 'stop').map((s, i) => string(s, `stop[${i}]`));
    }
    if (isSet(body['response_format'])) {
      const format = responseFormat(body['response_format']);
      if (format) request.responseFormat = format;
    }
    if (isSet(body['reasoning_effort'])) request.reasoning = { effort: reasoningEffort(body['reasoning_effort']) };
    const stream = isSet(body['stream']) && boolean(body['stream'], 'stream');
    let includeUsage = false;
    if (isSet(body['stream_options'])) {
      if (!stream) throw new FrontRequestError('stream_options', 'is only allowed with stream: true');
      const options = object(body['stream_options'], 'stream_options');
      refuseUnknown(options, new Set(['include_usage']), 'stream_options');
      includeUsage = isSet(options['include_usage']) && boolean(options['include_usage'], 'stream_options.include_usage');
    }
    return { request, stream, model, includeUsage };
  },

  json(result, call) {
    return {
      id: result.responseId ?? completionId(),
      object: 'chat.completion',
      created: Math.floor(Date.now() / 1000),
      model: result.model || call.model,
      choices: [
        {
          index: 0,
          message: {
            role: 'assistant',
            content: result.text === '' && result.toolCalls.length > 0 ? null : result.text,
            refusal: null,
            annotations: [],
            ...(result.toolCalls.length > 0 && { tool_calls: result.toolCalls.map(wireToolCall) }),
          },
          logprobs: null,
          finish_reason: finishReason(result.finishReason),
        },
      ],
      usage: usage(result.usage),
    };
  },

  async *sse(events, call, result) {
    const id = completionId();
    const created = Math.floor(Date.now() / 1000);
    const extra = call.includeUsage ? { usage: null } : {};
    const chunk = (delta: Json, finish: string | null = null, model = call.model) =>
      sseData({ id, object: 'chat.completion.chunk', created, model, choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }], ...extra });
    yield chunk({ role: 'assistant', content: '', refusal: null });
    const started = new Set<number>();
    for await (const event of events) {
      if (event.type === 'text') {
        if (event.delta !== '') yield chunk({ content: event.delta });
      } else if (event.type === 'tool_call') {
        if (started.has(event.index)) {
          yield chunk({ tool_calls: [{ index: event.index, function: { arguments: event.argumentsDelta } }] });
        } else {
          started.add(event.index);
          const call = { index: event.index, id: event.id ?? `call_${randomUUID().replaceAll('-', '')}`, type: 'function', function: { name: event.name ?? '', arguments: event.argumentsDelta } };
          yield chunk({ tool_calls: [call] });
        }
      }
      // 'usage' and 'finish' events: the final result carries both, whole.
    }
    const done = await result;
    yield chunk({}, finishReason(done.finishReason), done.model || call.model);
    if (call.includeUsage) yield sseData({ id, object: 'chat.completion.chunk', created, model: done.model || call.model, choices: [], usage: usage(done.usage) });
    yield factComment(done);
    yield 'data: [DONE]\n\n';
  },

  errorBody(failure) {
    return { error: errorObject(failure) };
  },

  errorEvent(failure) {
    return sseData({ error: errorObject(failure) });
  },
};

const ERROR_TYPES: Record<FailureKind, string> = {
  invalid_request: 'invalid_request_error',
  not_found: 'invalid_request_error',
  rate_limit: 'rate_limit_exceeded',
  overloaded: 'server_error',
  timeout: 'server_error',
  unavailable: 'server_error',
  upstream: 'server_error',
  cancelled: 'invalid_request_error',
  internal: 'server_error',
  authentication: 'invalid_request_error',
  too_large: 'invalid_request_error',
  // What OpenAI answers when an account's quota is spent (429, not worth retrying).
  quota: 'insufficient_quota',
};

function errorObject(failure: FrontFailure) {
  return { message: failure.message, type: ERROR_TYPES[failure.kind], param: failure.param ?? null, code: failure.code ?? failure.errorType ?? (failure.kind === 'not_found' ? 'not_found' : null) };
}

function completionId(): string {
  return `chatcmpl-${randomUUID().replaceAll('-', '')}`;
}

function finishReason(reason: FinishReason): string {
  return reason === 'length' || reason === 'tool_calls' || reason === 'content_filter' ? reason : 'stop';
}

function usage(u: Usage) {
  return {
    prompt_tokens: u.inputTokens,
    completion_tokens: u.outputTokens,
    total_tokens: u.inputTokens + u.outputTokens,
    prompt_tokens_details: { cached_tokens: u.cacheReadTokens ?? 0 },
    completion_tokens_details: { reasoning_tokens: u.reasoningTokens ?? 0 },
  };
}

function wireToolCall(call: ToolCall) {
  return { id: call.id, type: 'function', function: { name: call.name, arguments: call.arguments } };
}

/** `content`: a string, or an array of text parts (any other part type is refused, naming it). */
function text(value: unknown, path: string): string {
  if (typeof value === 'string') return value;
  return array(value, path)
    .map((p, i) => {
      const part = object(p, `${path}[${i}]`);
      if (part['type'] !== 'text') throw new FrontRequestError(`${path}[${i}].type`, `content part ${JSON.stringify(part['type'])} is not supported by Bulwark`);
      refuseUnknown(part, new Set(['type', 'text']), `${path}[${i}]`);
      return string(part['text'], `${path}[${i}].text`);
    })
    .join('');
}

/**
 * A user turn's content: text, `image_url` (an https or data URL) and `file` (`file_data` as a data
 * URL) parts. Text only stays a string. `image_url.detail` other than 'auto', `file_id` and audio
 * have no Bulwark equivalent and are refused.
 */
function userContent(value: unknown, path: string): string | ContentPart[] {
  if (typeof value === 'string') return value;
  const parts = array(value, path).map((p, i): ContentPart => {
    const at = `${path}[${i}]`;
    const part = object(p, at);
    switch (part['type']) {
      case 'text':
        refuseUnknown(part, new Set(['type', 'text']), at);
        return { type: 'text', text: string(part['text'], `${at}.text`) };
      case 'image_url': {
        refuseUnknown(part, new Set(['type', 'image_url']), at);
        const image = object(part['image_url'], `${at}.image_url`);
        refuseUnknown(image, new Set(['url']), `${at}.image_url`, { detail: (v) => v === 'auto' });
        return { type: 'image', image: string(image['url'], `${at}.image_url.url`) };
      }
      case 'file': {
        refuseUnknown(part, new Set(['type', 'file']), at);
        const file = object(part['file'], `${at}.file`);
        refuseUnknown(file, new Set(['file_data', 'filename']), `${at}.file`);
        const data = string(file['file_data'], `${at}.file.file_data`);
        const mediaType = parseDataUrl(data)?.mediaType;
        if (!mediaType) throw new FrontRequestError(`${at}.file.file_data`, 'must be a data URL with a media type (data:application/pdf;base64,…)');
        const out: ContentPart = { type: 'file', data, mediaType };
        if (isSet(file['filename'])) out.filename = string(file['filename'], `${at}.file.filename`);
        return out;
      }
      default:
        throw new FrontRequestError(`${at}.type`, `content part ${JSON.stringify(part['type'])} is not supported by Bulwark`);
    }
  });
  return parts.every((p) => p.type === 'text') ? parts.map((p) => (p as { text: string }).text).join('') : parts;
}

function message(raw: unknown, path: string): Message {
  const m = object(raw, path);
  const role = m['role'];
  switch (role) {
    case 'system':
    case 'developer':
      refuseUnknown(m, new Set(['role', 'content']), path);
      return { role, content: text(m['content'], `${path}.content`) };
    case 'user':
      refuseUnknown(m, new Set(['role', 'content']), path);
      return { role: 'user', content: userContent(m['content'], `${path}.content`) };
    case 'assistant': {
      // An answer's message echoed back as it came (refusal: null, annotations: []) is accepted.
      refuseUnknown(m, new Set(['role', 'content', 'tool_calls']), path, { refusal: () => false, annotations: (v) => Array.isArray(v) && v.length === 0 });
      const out: AssistantMessage = { role: 'assistant', content: isSet(m['content']) ? text(m['content'], `${path}.content`) : null };
      if (isSet(m['tool_calls'])) {
        out.toolCalls = array(m['tool_calls'], `${path}.tool_calls`).map((c, i) => {
          const at = `${path}.tool_calls[${i}]`;
          const call = object(c, at);
          refuseUnknown(call, new Set(['id', 'type', 'function']), at);
          if (call['type'] !== 'function') throw new FrontRequestError(`${at}.type`, 'only function tool calls are supported by Bulwark');
          const fn = object(call['function'], `${at}.function`);
          refuseUnknown(fn, new Set(['name', 'arguments']), `${at}.function`);
          return { id: string(call['id'], `${at}.id`), name: string(fn['name'], `${at}.function.name`), arguments: string(fn['arguments'], `${at}.function.arguments`) };
        });
      }
      return out;
    }
    case 'tool':
      refuseUnknown(m, new Set(['role', 'content', 'tool_call_id']), path);
      return { role: 'tool', toolCallId: string(m['tool_call_id'], `${path}.tool_call_id`), content: text(m['content'], `${path}.content`) };
    default:
      throw new FrontRequestError(`${path}.role`, `${JSON.stringify(role)} is not supported by Bulwark (system, developer, user, assistant, tool)`);
  }
}

function tool(raw: unknown, path: string): ToolDefinition {
  const t = object(raw, path);
  refuseUnknown(t, new Set(['type', 'function']), path);
  if (t['type'] !== 'function') throw new FrontRequestError(`${path}.type`, 'only function tools are supported by Bulwark');
  const fn = object(t['function'], `${path}.function`);
  // `strict` is accepted: Bulwark passes the schema to every target, none of which it can hold to
  // OpenAI's strict mode; README "Wire fronts" says so (the OpenAI Agents SDK sends strict: true).
  refuseUnknown(fn, new Set(['name', 'description', 'parameters', 'strict']), `${path}.function`);
  const out: ToolDefinition = {
    name: string(fn['name'], `${path}.function.name`),
    parameters: isSet(fn['parameters']) ? object(fn['parameters'], `${path}.function.parameters`) : { type: 'object', properties: {} },
  };
  if (isSet(fn['strict'])) boolean(fn['strict'], `${path}.function.strict`);
  if (isSet(fn['description'])) out.description = string(fn['description'], `${path}.function.description`);
  return out;
}

function toolChoice(raw: unknown): ToolChoice {
  if (raw === 'auto' || raw === 'none' || raw === 'required') return raw;
  const choice = object(raw, 'tool_choice');
  refuseUnknown(choice, new Set(['type', 'function']), 'tool_choice');
  if (choice['type'] !== 'function') throw new FrontRequestError('tool_choice.type', `${JSON.stringify(choice['type'])} is not supported by Bulwark`);
  const fn = object(choice['function'], 'tool_choice.function');
  refuseUnknown(fn, new Set(['name']), 'tool_choice.function');
  return { name: string(fn['name'], 'tool_choice.function.name') };
}

function responseFormat(raw: unknown): ResponseFormat | undefined {
  const format = object(raw, 'response_format');
  if (format['type'] === 'text') {
    refuseUnknown(format, new Set(['type']), 'response_format');
    return undefined;
  }
  if (format['type'] !== 'json_schema') {
    throw new FrontRequestError('response_format.type', `${JSON.stringify(format['type'])} is not supported by Bulwark: use json_schema (Bulwark validates the answer against the schema)`);
  }
  refuseUnknown(format, new Set(['type', 'json_schema']), 'response_format');
  const spec = object(format['json_schema'], 'response_format.json_schema');
  refuseUnknown(spec, new Set(['name', 'schema', 'strict']), 'response_format.json_schema');
  const out: ResponseFormat = { type: 'json', schema: object(spec['schema'], 'response_format.json_schema.schema') };
  if (isSet(spec['name'])) out.name = string(spec['name'], 'response_format.json_schema.name');
  if (isSet(spec['strict'])) out.strict = boolean(spec['strict'], 'response_format.json_schema.strict');
  return out;
}

const EFFORTS: readonly ReasoningEffort[] = ['minimal', 'low', 'medium', 'high'];

function reasoningEffort(raw: unknown): ReasoningEffort {
  const effort = string(raw, 'reasoning_effort');
  if (!(EFFORTS as readonly string[]).includes(effort)) throw new FrontRequestError('reasoning_effort', `${JSON.stringify(effort)} is not supported by Bulwark (${EFFORTS.join(', ')})`);
  return effort as ReasoningEffort;
}
