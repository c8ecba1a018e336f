/**
 * Google Gemini API (Generative Language, v1beta) wire format: `POST /v1beta/models/{model}:generateContent`
 * answers, `:streamGenerateContent?alt=sse` chunks (bare `data:` events, no terminator) and Google's error body
 * `{"error":{"code":429,"message":…,"status":"RESOURCE_EXHAUSTED","details":[…]}}`.
 *
 * What Google does differently, and the server copies: a bad API key is a 400 `INVALID_ARGUMENT` (reason
 * `API_KEY_INVALID`), not a 401; a rate limit carries its delay in a `google.rpc.RetryInfo` detail, not in a
 * header; a blocked prompt or answer is a 200 (`finishReason: SAFETY`); function calls arrive whole (one part
 * each, no argument deltas) and finish with `STOP`; an error in the middle of a stream is a chunk with `error`.
 */
import type { ContentFilterFault, ErrorFault, StreamErrorFault } from './faults.js';
import { decodeBase64, idFragment, textPieces } from './providerWire.js';
import type { InputProblem, InputSummary, ProviderWire, ReceivedAttachment, ResolvedReply, WireContext, WireError } from './providerWire.js';
import { jsonEvent } from './sse.js';
import type { SseEvent } from './sse.js';

const FINISH_REASONS: Record<string, string> = {
  stop: 'STOP',
  end_turn: 'STOP',
  stop_sequence: 'STOP',
  tool_calls: 'STOP',
  tool_use: 'STOP',
  length: 'MAX_TOKENS',
  max_tokens: 'MAX_TOKENS',
  content_filter: 'SAFETY',
  refusal: 'SAFETY',
};

/** Maps a neutral, OpenAI or Anthropic finish reason to Gemini's; unknown values pass through. */
export function toGeminiFinishReason(reason: string): string {
  return FINISH_REASONS[reason] ?? reason;
}

/** Google's error body (google.rpc.Status as JSON). */
export function geminiErrorBody(code: number, status: string, message: string, details?: unknown[]): { error: Record<string, unknown> } {
  return { error: { code, message, status, ...(details && { details }) } };
}

function error(code: number, status: string, message: string, headers: Record<string, string> = {}, details?: unknown[]): WireError {
  return { status: code, headers, body: geminiErrorBody(code, status, message, details) };
}

/** Gemini counts cached tokens inside the prompt count, but thoughts beside the candidates (not in them). */
function usage(reply: ResolvedReply) {
  return {
    promptTokenCount: reply.inputTokens,
    candidatesTokenCount: reply.outputTokens - reply.reasoningTokens,
    totalTokenCount: reply.inputTokens + reply.outputTokens,
    ...(reply.cacheReadTokens > 0 && { cachedContentTokenCount: reply.cacheReadTokens }),
    ...(reply.reasoningTokens > 0 && { thoughtsTokenCount: reply.reasoningTokens }),
    promptTokensDetails: [{ modality: 'TEXT', tokenCount: reply.inputTokens }],
  };
}

function functionCallParts(reply: ResolvedReply) {
  return reply.toolCalls.map((call) => {
    let args: unknown;
    try {
      args = JSON.parse(call.arguments);
    } catch {
      args = call.arguments; // an unparsable argument string is sent as is: the client must cope
    }
    return { functionCall: { name: call.name, args } };
  });
}

function responseId(ctx: WireContext): string {
  return `resp-${idFragment(ctx.seq)}`;
}

/** Seconds as a protobuf Duration string (`"2s"`, `"0.250s"`). */
function duration(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${(ms / 1000).toFixed(3)}s`;
}

const SERVER_ERRORS: Record<number, [status: string, message: string]> = {
  500: ['INTERNAL', 'An internal error has occurred. Please retry or report in https://developers.generativeai.google/guide/troubleshooting'],
  502: ['UNAVAILABLE', 'Bad gateway.'],
  503: ['UNAVAILABLE', 'The service is currently unavailable.'],
  504: ['DEADLINE_EXCEEDED', 'Deadline expired before operation could complete.'],
};

const OVERLOADED = 'The model is overloaded. Please try again later.';

/**
 * Google's 400 for a malformed structured-output request: `responseSchema` / `responseJsonSchema` must be an
 * object and needs `responseMimeType: "application/json"`.
 */
function checkGeminiRequest(body: Record<string, unknown>): string | undefined {
  const config = body['generationConfig'];
  if (config === undefined) return undefined;
  if (config === null || typeof config !== 'object' || Array.isArray(config)) return "Invalid JSON payload received. Unknown name \"generationConfig\": expected an object.";
  const c = config as Record<string, unknown>;
  for (const key of ['responseSchema', 'responseJsonSchema']) {
    const schema = c[key];
    if (schema === undefined) continue;
    if (schema === null || typeof schema !== 'object' || Array.isArray(schema)) return `Invalid JSON payload received. Invalid value at 'generation_config.${key}': expected an object.`;
    if (c['responseMimeType'] !== 'application/json') return `${key} requires responseMimeType to be application/json.`;
  }
  return undefined;
}

export const geminiWire: ProviderWire = {
  provider: 'gemini',

  checkRequest(ctx) {
    const problem = checkGeminiRequest(ctx.body);
    return problem === undefined ? undefined : error(400, 'INVALID_ARGUMENT', problem);
  },

  commonHeaders() {
    return { server: 'scaffolding on HTTPServer2', vary: 'Origin, X-Origin, Referer' };
  },

  completion(ctx, reply) {
    const parts = [...(reply.text === '' ? [] : [{ text: reply.text }]), ...functionCallParts(reply)];
    return {
      candidates: [{ content: { parts, role: 'model' }, finishReason: toGeminiFinishReason(reply.finishReason), index: 0 }],
      usageMetadata: usage(reply),
      modelVersion: ctx.model,
      responseId: responseId(ctx),
    };
  },

  streamEvents(ctx, reply) {
    const base = { modelVersion: ctx.model, responseId: responseId(ctx) };
    const pieces = textPieces(reply.text);
    const calls = functionCallParts(reply);
    const events: SseEvent[] = [];
    // Every chunk carries the usage so far; the last one carries the finish reason and final counts.
    const chunk = (parts: unknown[], last: boolean) =>
      jsonEvent({
        candidates: [{ content: { parts, role: 'model' }, ...(last && { finishReason: toGeminiFinishReason(reply.finishReason) }), index: 0 }],
        usageMetadata: last ? usage(reply) : { promptTokenCount: reply.inputTokens, totalTokenCount: reply.inputTokens },
        ...base,
      });
    const total = pieces.length + calls.length;
    if (total === 0) return [chunk([{ text: '' }], true)];
    pieces.forEach((piece, i) => events.push(chunk([{ text: piece }], i === total - 1)));
    calls.forEach((call, i) => events.push(chunk([call], pieces.length + i === total - 1)));
    return events;
  },

  error(ctx, fault: ErrorFault) {
    switch (fault.kind) {
      case 'rateLimit': {
        const delayMs = fault.retryAfterMs ?? (fault.retryAfterSeconds !== undefined ? fault.retryAfterSeconds * 1000 : undefined);
        const details: unknown[] = [
          {
            '@type': 'type.googleapis.com/google.rpc.QuotaFailure',
            violations: [
              {
                quotaMetric: `generativelanguage.googleapis.com/generate_content_${fault.limit === 'tokens' ? 'input_token_count' : 'requests'}`,
                quotaId: fault.limit === 'tokens' ? 'GenerateContentInputTokensPerModelPerMinute' : 'GenerateRequestsPerMinutePerProjectPerModel',
                quotaDimensions: { model: ctx.model, location: 'global' },
              },
            ],
          },
          ...(delayMs !== undefined ? [{ '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: duration(delayMs) }] : []),
        ];
        const message =
          fault.message ??
          (fault.limit === 'quota'
            ? 'You exceeded your current quota, please check your plan and billing details. For more information on this error, head to: https://ai.google.dev/gemini-api/docs/rate-limits.'
            : 'Resource has been exhausted (e.g. check quota).');
        return error(429, 'RESOURCE_EXHAUSTED', message, fault.headers, details);
      }
      case 'serverError': {
        const code = fault.status ?? 500;
        const [status, message] = SERVER_ERRORS[code] ?? ['INTERNAL', 'Internal error.'];
        return error(code, status, fault.message ?? message, fault.headers);
      }
      case 'overloaded':
        return error(fault.status ?? 503, 'UNAVAILABLE', fault.message ?? OVERLOADED, fault.headers);
      case 'authentication':
        return error(400, 'INVALID_ARGUMENT', fault.message ?? 'API key not valid. Please pass a valid API key.', fault.headers, [
          { '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason: 'API_KEY_INVALID', domain: 'googleapis.com', metadata: { service: 'generativelanguage.googleapis.com' } },
        ]);
      case 'permissionDenied':
        return error(403, 'PERMISSION_DENIED', fault.message ?? 'The caller does not have permission', fault.headers);
      case 'modelNotFound':
        return error(
          404,
          'NOT_FOUND',
          fault.message ??
            `models/${ctx.model} is not found for API version v1beta, or is not supported for generateContent. Call ListModels to see the list of available models and their supported methods.`,
          fault.headers,
        );
      case 'badRequest':
      case 'unprocessable':
        return error(400, 'INVALID_ARGUMENT', fault.message ?? 'Request contains an invalid argument.', fault.headers);
      case 'contextLength': {
        const max = fault.maxTokens ?? Math.max(1, ctx.inputTokens - 1);
        return error(
          400,
          'INVALID_ARGUMENT',
          `The input token count (${ctx.inputTokens}) exceeds the maximum number of tokens allowed (${max}).`,
          fault.headers,
        );
      }
      case 'httpError':
        return { status: fault.status, headers: fault.headers ?? {}, body: fault.body ?? geminiErrorBody(fault.status, 'UNKNOWN', `HTTP ${fault.status}`) };
    }
  },

  /** Gemini refuses with a 200 whose candidate finishes with `SAFETY`. */
  contentPolicyError(_ctx, _fault: ContentFilterFault) {
    return undefined;
  },

  streamErrorEvent(_ctx, fault: StreamErrorFault) {
    return jsonEvent(geminiErrorBody(503, 'UNAVAILABLE', fault.message ?? OVERLOADED));
  },

  streamErrorAsHttp(_ctx, fault: StreamErrorFault) {
    return error(503, 'UNAVAILABLE', fault.message ?? OVERLOADED);
  },

  checkInput: checkGeminiInput,
  describeInput: describeGeminiInput,
};

// -------------------------------------------------------------------------- input shapes (inlineData, fileData)

type LooseRecord = Record<string, unknown>;
const isRecord = (v: unknown): v is LooseRecord => v !== null && typeof v === 'object' && !Array.isArray(v);

function eachPart(body: LooseRecord, visit: (part: LooseRecord, content: number, index: number) => InputProblem | undefined | void): InputProblem | undefined {
  const contents = Array.isArray(body['contents']) ? body['contents'] : [];
  for (const [i, content] of contents.entries()) {
    if (!isRecord(content) || !Array.isArray(content['parts'])) continue;
    for (const [j, part] of content['parts'].entries()) {
      if (!isRecord(part)) continue;
      const problem = visit(part, i, j);
      if (problem) return problem;
    }
  }
  return undefined;
}

/** Google's 400s for an inline blob without a MIME type or with data that is not base64. */
function checkGeminiInput(body: LooseRecord): InputProblem | undefined {
  return eachPart(body, (part, i, j) => {
    const at = `contents[${i}].parts[${j}]`;
    const inline = part['inlineData'];
    if (isRecord(inline)) {
      if (typeof inline['mimeType'] !== 'string' || inline['mimeType'] === '') return { param: `${at}.inline_data.mime_type`, message: `* GenerateContentRequest.${at}.inline_data.mime_type: required field is not specified` };
      if (typeof inline['data'] !== 'string' || !decodeBase64(inline['data'])) return { param: `${at}.inline_data.data`, message: `Invalid value at '${at}.inline_data.data' (TYPE_BYTES), Base64 decoding failed` };
    }
    const file = part['fileData'];
    if (isRecord(file) && typeof file['fileUri'] !== 'string') return { param: `${at}.file_data.file_uri`, message: `* GenerateContentRequest.${at}.file_data.file_uri: required field is not specified` };
    return undefined;
  });
}

function describeGeminiInput(ctx: WireContext): InputSummary {
  const attachments: ReceivedAttachment[] = [];
  eachPart(ctx.body, (part, i) => {
    const inline = part['inlineData'];
    const file = part['fileData'];
    const record = isRecord(inline) ? inline : isRecord(file) ? file : undefined;
    if (!record) return;
    const mediaType = typeof record['mimeType'] === 'string' ? record['mimeType'] : undefined;
    const kind = mediaType?.startsWith('image/') ? 'image' : 'file';
    if (record === inline) {
      const data = record['data'];
      const bytes = typeof data === 'string' ? decodeBase64(data) : undefined;
      attachments.push({ message: i, kind, source: 'base64', ...(mediaType && { mediaType }), ...(bytes && { bytes: bytes.length }) });
    } else {
      attachments.push({ message: i, kind, source: 'url', ...(mediaType && { mediaType }), ...(typeof record['fileUri'] === 'string' && { url: record['fileUri'] }) });
    }
  });
  return { attachments, fields: Object.keys(ctx.body).sort(), betas: [] };
}
