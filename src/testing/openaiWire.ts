/**
 * OpenAI Chat Completions wire format: `POST /v1/chat/completions` answers, stream chunks and error bodies
 * (`{"error":{"message","type","param","code"}}` with `x-request-id`).
 */
import type { ContentFilterFault, ErrorFault, StreamErrorFault } from './faults.js';
import { argumentPieces, betasOf, idFragment, isHttpUrl, parseBase64DataUrl, sniffImage, textPieces } from './providerWire.js';
import type { InputProblem, InputSummary, ProviderWire, ReceivedAttachment, ResolvedReply, WireContext, WireError } from './providerWire.js';
import { rateLimitHeaders } from './rateLimitHeaders.js';
import { checkOpenAIRequest } from './requestChecks.js';
import { jsonEvent } from './sse.js';
import type { SseEvent } from './sse.js';

const FINISH_REASONS: Record<string, string> = {
  end_turn: 'stop',
  stop_sequence: 'stop',
  max_tokens: 'length',
  tool_use: 'tool_calls',
  refusal: 'content_filter',
};

/** Maps a neutral or Anthropic finish reason to OpenAI's; unknown values pass through. */
export function toOpenAIFinishReason(reason: string): string {
  return FINISH_REASONS[reason] ?? reason;
}

/** OpenAI's error body. */
export function openaiErrorBody(
  message: string,
  type: string | null,
  code: string | null = null,
  param: string | null = null,
): { error: { message: string; type: string | null; param: string | null; code: string | null } } {
  return { error: { message, type, param, code } };
}

function usage(reply: ResolvedReply) {
  return {
    prompt_tokens: reply.inputTokens,
    completion_tokens: reply.outputTokens,
    total_tokens: reply.inputTokens + reply.outputTokens,
    prompt_tokens_details: {
      cached_tokens: reply.cacheReadTokens,
      audio_tokens: 0,
      ...(reply.cacheWriteTokens > 0 && { cache_write_tokens: reply.cacheWriteTokens }),
    },
    completion_tokens_details: {
      reasoning_tokens: reply.reasoningTokens,
      audio_tokens: 0,
      accepted_prediction_tokens: 0,
      rejected_prediction_tokens: 0,
    },
  };
}

function toolCallId(ctx: WireContext, index: number, id: string | undefined): string {
  return id ?? `call_${idFragment(ctx.seq)}_${index}`;
}

function error(status: number, body: unknown, headers: Record<string, string> = {}): WireError {
  return { status, body, headers };
}

const SERVER_ERROR_MESSAGES: Record<number, string> = {
  500: 'The server had an error while processing your request. Sorry about that!',
  502: 'Bad gateway.',
  503: 'Service Unavailable.',
  504: 'Gateway timeout.',
};

export const openaiWire: ProviderWire = {
  provider: 'openai',

  checkRequest(ctx) {
    const problem = checkOpenAIRequest(ctx.body);
    return problem && error(400, openaiErrorBody(problem.message, 'invalid_request_error', null, problem.param ?? null));
  },

  commonHeaders(ctx) {
    return {
      'x-request-id': `req_${idFragment(ctx.seq)}`,
      'openai-version': '2020-10-01',
      'openai-organization': 'bulwark-mock',
      'openai-processing-ms': '1',
    };
  },

  completion(ctx, reply) {
    const toolCalls = reply.toolCalls.map((call, index) => ({
      id: toolCallId(ctx, index, call.id),
      type: 'function',
      function: { name: call.name, arguments: call.arguments },
    }));
    const finishReason = toOpenAIFinishReason(reply.finishReason);
    return {
      id: `chatcmpl-${idFragment(ctx.seq)}`,
      object: 'chat.completion',
      created: Math.floor(ctx.nowMs / 1000),
      model: ctx.model,
      choices: [
        {
          index: 0,
          message: {
            role: 'assistant',
            content: reply.text === '' && (toolCalls.length > 0 || finishReason === 'content_filter') ? null : reply.text,
            // What OpenAI-compatible reasoning servers (DeepSeek, vLLM) send; OpenAI itself returns no reasoning text.
            ...(reply.reasoning !== '' && { reasoning_content: reply.reasoning }),
            refusal: null,
            annotations: [],
            ...(toolCalls.length > 0 ? { tool_calls: toolCalls } : {}),
          },
          logprobs: null,
          finish_reason: finishReason,
        },
      ],
      usage: usage(reply),
      service_tier: 'default',
      system_fingerprint: 'fp_bulwark',
    };
  },

  streamEvents(ctx, reply) {
    const streamOptions = ctx.body['stream_options'] as { include_usage?: unknown } | undefined;
    const includeUsage = streamOptions?.include_usage === true;
    const base = {
      id: `chatcmpl-${idFragment(ctx.seq)}`,
      object: 'chat.completion.chunk',
      created: Math.floor(ctx.nowMs / 1000),
      model: ctx.model,
      service_tier: 'default',
      system_fingerprint: 'fp_bulwark',
    };
    const chunk = (delta: Record<string, unknown>, finishReason: string | null = null): SseEvent =>
      jsonEvent({
        ...base,
        choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }],
        ...(includeUsage ? { usage: null } : {}),
      });

    const events: SseEvent[] = [];
    events.push(chunk({ role: 'assistant', content: reply.text === '' ? null : '', refusal: null }));
    for (const piece of textPieces(reply.reasoning)) events.push(chunk({ reasoning_content: piece }));
    for (const piece of textPieces(reply.text)) events.push(chunk({ content: piece }));
    reply.toolCalls.forEach((call, index) => {
      events.push(
        chunk({
          tool_calls: [
            { index, id: toolCallId(ctx, index, call.id), type: 'function', function: { name: call.name, arguments: '' } },
          ],
        }),
      );
      for (const piece of argumentPieces(call.arguments)) {
        events.push(chunk({ tool_calls: [{ index, function: { arguments: piece } }] }));
      }
    });
    events.push(chunk({}, toOpenAIFinishReason(reply.finishReason)));
    if (includeUsage) events.push(jsonEvent({ ...base, choices: [], usage: usage(reply) }));
    events.push({ data: '[DONE]' });
    return events;
  },

  error(ctx, fault: ErrorFault) {
    switch (fault.kind) {
      case 'rateLimit': {
        const headers = { ...rateLimitHeaders('openai', fault, ctx.nowMs), ...fault.headers };
        if (fault.limit === 'quota') {
          return error(
            429,
            openaiErrorBody(
              fault.message ??
                'You exceeded your current quota, please check your plan and billing details. For more information on this error, read the docs: https://platform.openai.com/docs/guides/error-codes/api-errors.',
              'insufficient_quota',
              'insufficient_quota',
            ),
            headers,
          );
        }
        const tokens = fault.limit === 'tokens';
        const message =
          fault.message ??
          `Rate limit reached for ${ctx.model} in organization org-bulwark-mock on ${
            tokens ? 'tokens per min (TPM): Limit 30000, Used 30000' : 'requests per min (RPM): Limit 500, Used 500'
          }, Requested ${tokens ? ctx.inputTokens : 1}. Please try again later. Visit https://platform.openai.com/account/rate-limits to learn more.`;
        return error(429, openaiErrorBody(message, tokens ? 'tokens' : 'requests', 'rate_limit_exceeded'), headers);
      }
      case 'serverError': {
        const status = fault.status ?? 500;
        return error(status, openaiErrorBody(fault.message ?? SERVER_ERROR_MESSAGES[status] ?? 'Server error.', 'server_error'), fault.headers);
      }
      case 'overloaded':
        return error(
          fault.status ?? 503,
          openaiErrorBody(fault.message ?? 'The engine is currently overloaded, please try again later.', 'server_error'),
          fault.headers,
        );
      case 'authentication':
        return error(
          401,
          openaiErrorBody(
            fault.message ??
              'Incorrect API key provided. You can find your API key at https://platform.openai.com/account/api-keys.',
            'invalid_request_error',
            'invalid_api_key',
          ),
          fault.headers,
        );
      case 'permissionDenied':
        return error(
          403,
          openaiErrorBody(fault.message ?? `You are not allowed to sample from this model`, 'invalid_request_error'),
          fault.headers,
        );
      case 'modelNotFound':
        return error(
          404,
          openaiErrorBody(
            fault.message ?? `The model \`${ctx.model}\` does not exist or you do not have access to it.`,
            'invalid_request_error',
            'model_not_found',
            'model',
          ),
          fault.headers,
        );
      case 'badRequest':
        return error(
          400,
          openaiErrorBody(fault.message ?? 'Invalid request.', 'invalid_request_error', null, fault.param ?? null),
          fault.headers,
        );
      case 'unprocessable':
        return error(422, openaiErrorBody(fault.message ?? 'Unprocessable Entity.', 'invalid_request_error'), fault.headers);
      case 'contextLength': {
        const max = fault.maxTokens ?? Math.max(1, ctx.inputTokens - 1);
        return error(
          400,
          openaiErrorBody(
            `This model's maximum context length is ${max} tokens. However, your messages resulted in ${ctx.inputTokens} tokens. Please reduce the length of the messages.`,
            'invalid_request_error',
            'context_length_exceeded',
            'messages',
          ),
          fault.headers,
        );
      }
      case 'httpError':
        return error(fault.status, fault.body ?? openaiErrorBody(`HTTP ${fault.status}`, 'server_error'), fault.headers);
    }
  },

  contentPolicyError(_ctx, fault: ContentFilterFault) {
    if (fault.as === 'finish') return undefined;
    if (fault.code === 'content_filter') {
      // Azure OpenAI's prompt-filter body.
      return error(
        400,
        {
          error: {
            message:
              fault.message ??
              "The response was filtered due to the prompt triggering Azure OpenAI's content management policy. Please modify your prompt and retry.",
            type: null,
            param: 'prompt',
            code: 'content_filter',
            status: 400,
            innererror: {
              code: 'ResponsibleAIPolicyViolation',
              content_filter_result: {
                hate: { filtered: false, severity: 'safe' },
                self_harm: { filtered: false, severity: 'safe' },
                sexual: { filtered: false, severity: 'safe' },
                violence: { filtered: true, severity: 'medium' },
              },
            },
          },
        },
        fault.headers,
      );
    }
    return error(
      400,
      openaiErrorBody(
        fault.message ??
          'Your request was rejected as a result of our safety system. Your prompt may contain text that is not allowed by our safety system.',
        'invalid_request_error',
        'content_policy_violation',
      ),
      fault.headers,
    );
  },

  streamErrorEvent(_ctx, fault: StreamErrorFault) {
    return jsonEvent(
      openaiErrorBody(fault.message ?? 'The server had an error while processing your request. Sorry about that!', 'server_error'),
    );
  },

  streamErrorAsHttp(_ctx, fault: StreamErrorFault) {
    return error(
      500,
      openaiErrorBody(fault.message ?? 'The server had an error while processing your request. Sorry about that!', 'server_error'),
    );
  },

  checkInput: checkOpenAIInput,
  describeInput: describeOpenAIInput,
};

// -------------------------------------------------------------------------- input shapes (images, files)

type Loose = Record<string, unknown>;
const isObj = (v: unknown): v is Loose => v !== null && typeof v === 'object' && !Array.isArray(v);

const USER_PART_TYPES = ['text', 'image_url', 'input_audio', 'file'];
const IMAGE_TYPES = ['image/png', 'image/jpeg', 'image/gif', 'image/webp'];

/** The 400s Chat Completions answers for malformed content parts and tool options. */
function checkOpenAIInput(body: Record<string, unknown>): InputProblem | undefined {
  const messages = Array.isArray(body['messages']) ? body['messages'] : [];
  for (const [i, message] of messages.entries()) {
    if (!isObj(message) || !Array.isArray(message['content'])) continue;
    // System, developer and tool messages take text parts only; user messages the multimodal ones.
    const allowed = message['role'] === 'user' ? USER_PART_TYPES : ['text'];
    for (const [j, part] of message['content'].entries()) {
      const at = `messages[${i}].content[${j}]`;
      const type = isObj(part) ? part['type'] : undefined;
      if (typeof type !== 'string' || !allowed.includes(type)) {
        return { param: `${at}.type`, message: `Invalid value: '${String(type)}'. Supported values are: ${allowed.map((t) => `'${t}'`).join(', ')}.` };
      }
      const problem = checkPart(part as Loose, at);
      if (problem) return problem;
    }
  }
  if (body['parallel_tool_calls'] !== undefined && !(Array.isArray(body['tools']) && body['tools'].length > 0)) {
    return { param: 'parallel_tool_calls', message: "Invalid value for 'parallel_tool_calls': 'parallel_tool_calls' is only allowed when 'tools' are specified." };
  }
  return undefined;
}

function checkPart(part: Loose, at: string): InputProblem | undefined {
  if (part['type'] === 'image_url') {
    const url = isObj(part['image_url']) ? part['image_url']['url'] : undefined;
    if (typeof url !== 'string') return { param: `${at}.image_url.url`, message: `Missing required parameter: '${at}.image_url.url'.` };
    if (isHttpUrl(url)) return undefined;
    const data = parseBase64DataUrl(url);
    if (!data || !IMAGE_TYPES.includes(data.mediaType)) {
      return { param: `${at}.image_url.url`, message: "Invalid image URL: expected an http(s) URL or a base64 data URL of type image/png, image/jpeg, image/gif or image/webp." };
    }
    if (sniffImage(data.bytes) !== data.mediaType) return { param: `${at}.image_url.url`, message: 'You uploaded an unsupported image. Please make sure your image is valid.' };
    return undefined;
  }
  if (part['type'] === 'file') {
    const file = part['file'];
    if (!isObj(file) || (file['file_data'] === undefined && file['file_id'] === undefined)) {
      return { param: `${at}.file`, message: `Missing required parameter: '${at}.file.file_data' or '${at}.file.file_id'.` };
    }
    if (file['file_data'] !== undefined) {
      if (typeof file['file_data'] !== 'string' || !parseBase64DataUrl(file['file_data'])) {
        return { param: `${at}.file.file_data`, message: 'Invalid file data: expected a base64 data URL (data:<media type>;base64,…).' };
      }
      if (typeof file['filename'] !== 'string' || file['filename'] === '') {
        return { param: `${at}.file.filename`, message: `Missing required parameter: '${at}.file.filename'.` };
      }
    }
  }
  if (part['type'] === 'text' && typeof part['text'] !== 'string') return { param: `${at}.text`, message: `Missing required parameter: '${at}.text'.` };
  return undefined;
}

function describeOpenAIInput(ctx: WireContext): InputSummary {
  const attachments: ReceivedAttachment[] = [];
  const messages = Array.isArray(ctx.body['messages']) ? ctx.body['messages'] : [];
  for (const [i, message] of messages.entries()) {
    if (!isObj(message) || !Array.isArray(message['content'])) continue;
    for (const part of message['content']) {
      if (!isObj(part)) continue;
      if (part['type'] === 'image_url' && isObj(part['image_url']) && typeof part['image_url']['url'] === 'string') {
        const url = part['image_url']['url'];
        const data = parseBase64DataUrl(url);
        attachments.push(data ? { message: i, kind: 'image', source: 'base64', mediaType: data.mediaType, bytes: data.bytes.length } : { message: i, kind: 'image', source: 'url', url });
      } else if (part['type'] === 'file' && isObj(part['file'])) {
        const file = part['file'];
        const data = typeof file['file_data'] === 'string' ? parseBase64DataUrl(file['file_data']) : undefined;
        attachments.push({
          message: i,
          kind: 'file',
          source: 'base64',
          ...(data && { mediaType: data.mediaType, bytes: data.bytes.length }),
          ...(typeof file['filename'] === 'string' && { filename: file['filename'] }),
        });
      }
    }
  }
  return { attachments, fields: Object.keys(ctx.body).sort(), betas: betasOf(ctx.headers) };
}
