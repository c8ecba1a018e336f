/**
 * Anthropic Messages wire format: `POST /v1/messages` answers, the SSE event sequence (message_start, ping,
 * content_block_start/delta/stop, message_delta, message_stop, error) and error bodies
 * (`{"type":"error","error":{"type","message"},"request_id"}` with `request-id` / `x-request-id`).
 */
import type { ContentFilterFault, ErrorFault, StreamErrorFault } from './faults.js';
import { argumentPieces, betasOf, decodeBase64, idFragment, isHttpUrl, sniffImage, textPieces } from './providerWire.js';
import type { InputProblem, InputSummary, ProviderWire, ReceivedAttachment, ResolvedReply, WireContext, WireError } from './providerWire.js';
import { rateLimitHeaders } from './rateLimitHeaders.js';
import { checkAnthropicRequest, thinkingEnabled, thinkingSignature } from './requestChecks.js';
import { jsonEvent } from './sse.js';
import type { SseEvent } from './sse.js';

const STOP_REASONS: Record<string, string> = {
  stop: 'end_turn',
  length: 'max_tokens',
  tool_calls: 'tool_use',
  function_call: 'tool_use',
  content_filter: 'refusal',
};

/** Maps a neutral or OpenAI finish reason to Anthropic's stop_reason; unknown values pass through. */
export function toAnthropicStopReason(reason: string): string {
  return STOP_REASONS[reason] ?? reason;
}

function requestId(ctx: WireContext): string {
  return `req_${idFragment(ctx.seq)}`;
}

/** Anthropic's error body. */
export function anthropicErrorBody(
  type: string,
  message: string,
  request_id: string,
): { type: 'error'; error: { type: string; message: string }; request_id: string } {
  return { type: 'error', error: { type, message }, request_id };
}

function error(ctx: WireContext, status: number, type: string, message: string, headers: Record<string, string> = {}): WireError {
  return { status, body: anthropicErrorBody(type, message, requestId(ctx)), headers };
}

/** Anthropic's `input_tokens` is the prompt minus what was read from or written to the cache. */
function uncachedInput(reply: ResolvedReply): number {
  return Math.max(0, reply.inputTokens - reply.cacheReadTokens - reply.cacheWriteTokens);
}

function usage(reply: ResolvedReply, outputTokens: number, thinkingTokens: number) {
  return {
    input_tokens: uncachedInput(reply),
    cache_creation_input_tokens: reply.cacheWriteTokens,
    cache_read_input_tokens: reply.cacheReadTokens,
    cache_creation: { ephemeral_5m_input_tokens: reply.cacheWriteTokens, ephemeral_1h_input_tokens: 0 },
    output_tokens: outputTokens,
    output_tokens_details: thinkingTokens > 0 ? { thinking_tokens: thinkingTokens } : null,
    service_tier: 'standard',
  };
}

/** The thinking the answer carries: the reply's reasoning, only when the request turned thinking on (as the API does). */
function thinkingOf(ctx: WireContext, reply: ResolvedReply): string {
  return thinkingEnabled(ctx.body) ? reply.reasoning : '';
}

function toolUseId(ctx: WireContext, index: number, id: string | undefined): string {
  return id ?? `toolu_${idFragment(ctx.seq)}_${index}`;
}

function parseInput(args: string): unknown {
  try {
    return JSON.parse(args);
  } catch {
    return {};
  }
}

function stopDetails(stopReason: string) {
  return stopReason === 'refusal' ? { type: 'refusal', category: null, explanation: null } : null;
}

const SERVER_ERRORS: Record<number, [type: string, message: string]> = {
  500: ['api_error', 'Internal server error'],
  502: ['api_error', 'Bad gateway'],
  503: ['api_error', 'Service unavailable'],
  504: ['timeout_error', 'Request timeout'],
};

const RATE_LIMIT_MESSAGE = (what: string) =>
  `This request would exceed the rate limit for your organization (bulwark-mock) of ${what}. For details, refer to: https://docs.claude.com/en/api/rate-limits. You can see the response headers for current usage. Please reduce the prompt length or the maximum tokens requested, or try again later.`;

export const anthropicWire: ProviderWire = {
  provider: 'anthropic',

  checkRequest(ctx) {
    const problem = checkAnthropicRequest(ctx.body);
    return problem && error(ctx, 400, 'invalid_request_error', problem.message);
  },

  commonHeaders(ctx) {
    const id = requestId(ctx);
    return { 'request-id': id, 'x-request-id': id, 'anthropic-organization-id': 'bulwark-mock' };
  },

  completion(ctx, reply) {
    const content: unknown[] = [];
    const thinking = thinkingOf(ctx, reply);
    if (thinking !== '') content.push({ type: 'thinking', thinking, signature: thinkingSignature(thinking) });
    if (reply.text !== '' || reply.toolCalls.length === 0) content.push({ type: 'text', text: reply.text, citations: null });
    reply.toolCalls.forEach((call, index) => {
      content.push({
        type: 'tool_use',
        id: toolUseId(ctx, index, call.id),
        name: call.name,
        input: parseInput(call.arguments),
        caller: { type: 'direct' },
      });
    });
    const stopReason = toAnthropicStopReason(reply.finishReason);
    return {
      id: `msg_${idFragment(ctx.seq)}`,
      type: 'message',
      role: 'assistant',
      model: ctx.model,
      content,
      stop_reason: stopReason,
      stop_sequence: null,
      stop_details: stopDetails(stopReason),
      container: null,
      usage: usage(reply, reply.outputTokens, thinkingEnabled(ctx.body) ? reply.reasoningTokens : 0),
    };
  },

  streamEvents(ctx, reply) {
    const stopReason = toAnthropicStopReason(reply.finishReason);
    const events: SseEvent[] = [
      jsonEvent(
        {
          type: 'message_start',
          message: {
            id: `msg_${idFragment(ctx.seq)}`,
            type: 'message',
            role: 'assistant',
            model: ctx.model,
            content: [],
            stop_reason: null,
            stop_sequence: null,
            stop_details: null,
            container: null,
            usage: usage(reply, 1, 0),
          },
        },
        'message_start',
      ),
      jsonEvent({ type: 'ping' }, 'ping'),
    ];
    let index = 0;
    const thinking = thinkingOf(ctx, reply);
    if (thinking !== '') {
      events.push(jsonEvent({ type: 'content_block_start', index, content_block: { type: 'thinking', thinking: '', signature: '' } }, 'content_block_start'));
      for (const piece of textPieces(thinking)) {
        events.push(jsonEvent({ type: 'content_block_delta', index, delta: { type: 'thinking_delta', thinking: piece } }, 'content_block_delta'));
      }
      events.push(jsonEvent({ type: 'content_block_delta', index, delta: { type: 'signature_delta', signature: thinkingSignature(thinking) } }, 'content_block_delta'));
      events.push(jsonEvent({ type: 'content_block_stop', index }, 'content_block_stop'));
      index += 1;
    }
    if (reply.text !== '' || reply.toolCalls.length === 0) {
      events.push(jsonEvent({ type: 'content_block_start', index, content_block: { type: 'text', text: '', citations: null } }, 'content_block_start'));
      for (const piece of textPieces(reply.text)) {
        events.push(jsonEvent({ type: 'content_block_delta', index, delta: { type: 'text_delta', text: piece } }, 'content_block_delta'));
      }
      events.push(jsonEvent({ type: 'content_block_stop', index }, 'content_block_stop'));
      index += 1;
    }
    reply.toolCalls.forEach((call, callIndex) => {
      events.push(
        jsonEvent(
          {
            type: 'content_block_start',
            index,
            content_block: { type: 'tool_use', id: toolUseId(ctx, callIndex, call.id), name: call.name, input: {}, caller: { type: 'direct' } },
          },
          'content_block_start',
        ),
      );
      for (const piece of ['', ...argumentPieces(call.arguments)]) {
        events.push(
          jsonEvent({ type: 'content_block_delta', index, delta: { type: 'input_json_delta', partial_json: piece } }, 'content_block_delta'),
        );
      }
      events.push(jsonEvent({ type: 'content_block_stop', index }, 'content_block_stop'));
      index += 1;
    });
    events.push(
      jsonEvent(
        {
          type: 'message_delta',
          delta: { stop_reason: stopReason, stop_sequence: null, stop_details: stopDetails(stopReason), container: null },
          usage: {
            input_tokens: uncachedInput(reply),
            cache_creation_input_tokens: reply.cacheWriteTokens,
            cache_read_input_tokens: reply.cacheReadTokens,
            output_tokens: reply.outputTokens,
            ...(thinkingEnabled(ctx.body) && reply.reasoningTokens > 0 && { output_tokens_details: { thinking_tokens: reply.reasoningTokens } }),
          },
        },
        'message_delta',
      ),
      jsonEvent({ type: 'message_stop' }, 'message_stop'),
    );
    return events;
  },

  error(ctx, fault: ErrorFault) {
    switch (fault.kind) {
      case 'rateLimit': {
        const headers = { ...rateLimitHeaders('anthropic', fault, ctx.nowMs), ...fault.headers };
        const what = fault.limit === 'requests' || fault.limit === undefined ? '50 requests per minute' : '40,000 input tokens per minute';
        return error(ctx, 429, 'rate_limit_error', fault.message ?? RATE_LIMIT_MESSAGE(what), headers);
      }
      case 'serverError': {
        const status = fault.status ?? 500;
        const [type, message] = SERVER_ERRORS[status] ?? ['api_error', 'Internal server error'];
        return error(ctx, status, type, fault.message ?? message, fault.headers);
      }
      case 'overloaded':
        return error(ctx, fault.status ?? 529, 'overloaded_error', fault.message ?? 'Overloaded', fault.headers);
      case 'authentication':
        return error(ctx, 401, 'authentication_error', fault.message ?? 'invalid x-api-key', fault.headers);
      case 'permissionDenied':
        return error(
          ctx,
          403,
          'permission_error',
          fault.message ?? 'Your API key does not have permission to use the specified resource.',
          fault.headers,
        );
      case 'modelNotFound':
        return error(ctx, 404, 'not_found_error', fault.message ?? `model: ${ctx.model}`, fault.headers);
      case 'badRequest':
        return error(ctx, 400, 'invalid_request_error', fault.message ?? 'Invalid request.', fault.headers);
      case 'unprocessable':
        return error(ctx, 422, 'invalid_request_error', fault.message ?? 'Unprocessable Entity.', fault.headers);
      case 'contextLength': {
        const max = fault.maxTokens ?? Math.max(1, ctx.inputTokens - 1);
        return error(ctx, 400, 'invalid_request_error', `prompt is too long: ${ctx.inputTokens} tokens > ${max} maximum`, fault.headers);
      }
      case 'httpError':
        return {
          status: fault.status,
          body: fault.body ?? anthropicErrorBody('api_error', `HTTP ${fault.status}`, requestId(ctx)),
          headers: fault.headers ?? {},
        };
    }
  },

  contentPolicyError(_ctx, _fault: ContentFilterFault) {
    // Anthropic refuses with a 200 and stop_reason "refusal"; it has no content-policy error status.
    return undefined;
  },

  streamErrorEvent(ctx, fault: StreamErrorFault) {
    const type = fault.errorType ?? 'overloaded_error';
    return jsonEvent(anthropicErrorBody(type, fault.message ?? (type === 'overloaded_error' ? 'Overloaded' : 'Internal server error'), requestId(ctx)), 'error');
  },

  streamErrorAsHttp(ctx, fault: StreamErrorFault) {
    const type = fault.errorType ?? 'overloaded_error';
    const status = type === 'overloaded_error' ? 529 : type === 'rate_limit_error' ? 429 : 500;
    return error(ctx, status, type, fault.message ?? (type === 'overloaded_error' ? 'Overloaded' : 'Internal server error'));
  },

  checkInput: checkAnthropicInput,
  describeInput: describeAnthropicInput,
};

// -------------------------------------------------------------------------- input shapes (images, documents)

type Loose = Record<string, unknown>;
const isObj = (v: unknown): v is Loose => v !== null && typeof v === 'object' && !Array.isArray(v);

const USER_BLOCK_TYPES = ['text', 'image', 'document', 'tool_result', 'search_result', 'container_upload'];
const TOOL_RESULT_BLOCK_TYPES = ['text', 'image', 'document', 'search_result'];
const IMAGE_TYPES = ['image/jpeg', 'image/png', 'image/gif', 'image/webp'];

/** The 400s the Messages API answers for malformed image / document blocks and tool options. */
function checkAnthropicInput(body: Record<string, unknown>): InputProblem | undefined {
  const messages = Array.isArray(body['messages']) ? body['messages'] : [];
  for (const [i, message] of messages.entries()) {
    if (!isObj(message) || message['role'] !== 'user' || !Array.isArray(message['content'])) continue;
    for (const [j, block] of message['content'].entries()) {
      const problem = checkBlock(block, `messages.${i}.content.${j}`, USER_BLOCK_TYPES);
      if (problem) return problem;
    }
  }
  const choice = body['tool_choice'];
  if (choice !== undefined && !(Array.isArray(body['tools']) && body['tools'].length > 0)) {
    return { param: 'tool_choice', message: 'tool_choice may only be specified while providing tools.' };
  }
  if (isObj(choice) && choice['disable_parallel_tool_use'] !== undefined && typeof choice['disable_parallel_tool_use'] !== 'boolean') {
    return { param: 'tool_choice.disable_parallel_tool_use', message: 'tool_choice.disable_parallel_tool_use: Input should be a valid boolean' };
  }
  return undefined;
}

function checkBlock(block: unknown, at: string, allowed: readonly string[]): InputProblem | undefined {
  const type = isObj(block) ? block['type'] : undefined;
  if (typeof type !== 'string' || !allowed.includes(type)) {
    return { param: `${at}.type`, message: `${at}.type: Input tag '${String(type)}' found using 'type' does not match any of the expected tags: ${allowed.map((t) => `'${t}'`).join(', ')}` };
  }
  const b = block as Loose;
  if (type === 'image') return checkImageSource(b['source'], `${at}.source`);
  if (type === 'document') return checkDocumentSource(b['source'], `${at}.source`);
  if (type === 'tool_result' && Array.isArray(b['content'])) {
    for (const [k, inner] of b['content'].entries()) {
      const problem = checkBlock(inner, `${at}.content.${k}`, TOOL_RESULT_BLOCK_TYPES);
      if (problem) return problem;
    }
  }
  return undefined;
}

function checkImageSource(source: unknown, at: string): InputProblem | undefined {
  if (!isObj(source)) return { param: at, message: `${at}: Field required` };
  if (source['type'] === 'url') return isHttpUrl(source['url']) ? undefined : { param: `${at}.url`, message: `${at}.url: Input should be a valid URL` };
  if (source['type'] === 'file') return typeof source['file_id'] === 'string' ? undefined : { param: `${at}.file_id`, message: `${at}.file_id: Field required` };
  if (source['type'] !== 'base64') return { param: `${at}.type`, message: `${at}.type: Input should be 'base64', 'url' or 'file'` };
  const mediaType = source['media_type'];
  if (typeof mediaType !== 'string' || !IMAGE_TYPES.includes(mediaType)) {
    return { param: `${at}.media_type`, message: `${at}.media_type: Input should be ${IMAGE_TYPES.map((t) => `'${t}'`).join(', ')}` };
  }
  const bytes = typeof source['data'] === 'string' ? decodeBase64(source['data']) : undefined;
  if (!bytes) return { param: `${at}.data`, message: `${at}.data: Invalid base64 data` };
  if (sniffImage(bytes) !== mediaType) return { param: `${at}.data`, message: `${at}.data: Image does not match the provided media type ${mediaType}` };
  return undefined;
}

function checkDocumentSource(source: unknown, at: string): InputProblem | undefined {
  if (!isObj(source)) return { param: at, message: `${at}: Field required` };
  switch (source['type']) {
    case 'url':
      return isHttpUrl(source['url']) ? undefined : { param: `${at}.url`, message: `${at}.url: Input should be a valid URL` };
    case 'text':
      if (source['media_type'] !== 'text/plain') return { param: `${at}.media_type`, message: `${at}.media_type: Input should be 'text/plain'` };
      return typeof source['data'] === 'string' ? undefined : { param: `${at}.data`, message: `${at}.data: Input should be a valid string` };
    case 'base64': {
      if (source['media_type'] !== 'application/pdf') return { param: `${at}.media_type`, message: `${at}.media_type: Input should be 'application/pdf'` };
      const bytes = typeof source['data'] === 'string' ? decodeBase64(source['data']) : undefined;
      if (!bytes) return { param: `${at}.data`, message: `${at}.data: Invalid base64 data` };
      if (Buffer.from(bytes.subarray(0, 5)).toString('latin1') !== '%PDF-') return { param: `${at}.data`, message: `${at}.data: The PDF specified was not valid.` };
      return undefined;
    }
    case 'content':
    case 'file':
      return undefined;
    default:
      return { param: `${at}.type`, message: `${at}.type: Input should be 'base64', 'text', 'content', 'url' or 'file'` };
  }
}

function describeAnthropicInput(ctx: WireContext): InputSummary {
  const attachments: ReceivedAttachment[] = [];
  const visit = (block: unknown, message: number, inToolResult: boolean) => {
    if (!isObj(block)) return;
    if (block['type'] === 'tool_result' && Array.isArray(block['content'])) {
      for (const inner of block['content']) visit(inner, message, true);
      return;
    }
    if (block['type'] !== 'image' && block['type'] !== 'document') return;
    const source = isObj(block['source']) ? block['source'] : {};
    const kind = block['type'] === 'image' ? 'image' : 'file';
    const where = { message, kind, ...(inToolResult && { inToolResult }) } as const;
    const title = typeof block['title'] === 'string' ? { filename: block['title'] } : {};
    if (source['type'] === 'url' && typeof source['url'] === 'string') {
      attachments.push({ ...where, source: 'url', url: source['url'], ...title });
    } else if (source['type'] === 'text' && typeof source['data'] === 'string') {
      attachments.push({ ...where, source: 'text', mediaType: 'text/plain', bytes: Buffer.byteLength(source['data']), ...title });
    } else if (typeof source['data'] === 'string') {
      const bytes = decodeBase64(source['data']);
      attachments.push({
        ...where,
        source: 'base64',
        ...(typeof source['media_type'] === 'string' && { mediaType: source['media_type'] }),
        ...(bytes && { bytes: bytes.length }),
        ...title,
      });
    }
  };
  const messages = Array.isArray(ctx.body['messages']) ? ctx.body['messages'] : [];
  for (const [i, message] of messages.entries()) {
    if (isObj(message) && Array.isArray(message['content'])) for (const block of message['content']) visit(block, i, false);
  }
  return { attachments, fields: Object.keys(ctx.body).sort(), betas: betasOf(ctx.headers) };
}
