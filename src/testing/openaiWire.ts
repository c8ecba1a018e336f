/**
 * OpenAI Chat Completions wire format: `POST /v1/chat/completions` answers, stream chunks and error bodies
 * (`{"error":{"message","type","param","code"}}` with `x-request-id`).
 */
import type { ContentFilterFault, ErrorFault, StreamErrorFault } from './faults.js';
import { argumentPieces, idFragment, textPieces } from './providerWire.js';
import type { ProviderWire, ResolvedReply, WireContext, WireError } from './providerWire.js';
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
};
