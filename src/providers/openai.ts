import type OpenAI from 'openai';
import type { ChatRequest, ProviderResponse, StreamEvent } from '../request/types.js';
import type { AttemptOptions, ProviderAdapter, Target, TargetOptions } from './adapter.js';
import { type ErrorContext, type SdkErrorClasses, normalizeThrown, sdkErrorClassesOf, secretsOf } from './errorMapping.js';
import { type MaxTokensParam, OpenAIStreamMapper, fromOpenAICompletion, toOpenAIParams } from './openaiConvert.js';
import { callPrepared } from './prepareCall.js';
import { OPENAI_RATE_LIMIT_HEADERS, parseOpenAIRateLimits, readingRateLimits } from './rateLimitHeaders.js';
import { withProviderOptions } from './providerOptionsBody.js';
import { type SdkStream, streamFromSdk } from './sdkStream.js';
import { NO_SDK_TIMEOUT_MS, endpointOf, makeTarget, validateClient, validateTargetOptions } from './targetOptions.js';
import { OPENAI_DEFAULTS } from './capabilities.js';
import { oneOf, string } from '../validation/walk.js';

export interface OpenAITargetOptions extends TargetOptions {
  /**
   * An official `openai` client (or `AzureOpenAI`). Its baseURL picks the endpoint, so any
   * OpenAI-compatible server works (vLLM, Ollama, LiteLLM, Azure). Its own retries and timeout are
   * switched off for Bulwark's calls (Bulwark owns both); the client you pass is not modified.
   */
  client: OpenAI;
  /**
   * Which field carries `maxTokens`. Default: `max_completion_tokens` on api.openai.com (the only one
   * reasoning models accept), `max_tokens` elsewhere (what OpenAI-compatible servers understand).
   */
  maxTokensParam?: MaxTokensParam;
  /**
   * `gen_ai.provider.name` for this target. Default 'openai', or 'azure.ai.openai' (the GenAI
   * conventions' name) for an `AzureOpenAI` client or an `*.openai.azure.com` endpoint.
   */
  providerName?: string;
}

/** Azure OpenAI: the `AzureOpenAI` client, or the plain client on an Azure OpenAI endpoint (v1 API). */
function isAzureOpenAI(client: OpenAI, host: string | undefined): boolean {
  for (let proto: unknown = Object.getPrototypeOf(client); proto && proto !== Object.prototype; proto = Object.getPrototypeOf(proto)) {
    if ((proto as { constructor?: { name?: unknown } }).constructor?.name === 'AzureOpenAI') return true;
  }
  return host !== undefined && /\.openai\.azure\.com$/i.test(host);
}

/** A chain target served by the OpenAI Chat Completions API (or any compatible endpoint). */
export function openaiTarget(options: OpenAITargetOptions): Target {
  validateTargetOptions('openaiTarget', options, {
    maxTokensParam: oneOf(['max_tokens', 'max_completion_tokens'] as const),
    providerName: string({ nonEmpty: true }),
  });
  validateClient('openaiTarget', options.client, ['chat', 'completions', 'create'], 'OpenAI');
  return makeTarget(new OpenAIAdapter(options), options, OPENAI_DEFAULTS);
}

class OpenAIAdapter implements ProviderAdapter {
  readonly provider: string;
  readonly model: string;
  readonly serverAddress?: string;
  readonly serverPort?: number;
  readonly rateLimitHeaders = OPENAI_RATE_LIMIT_HEADERS;
  // Private (#) so that logging or inspecting a target never walks into the client and its key.
  readonly #client: OpenAI;
  readonly #classes: SdkErrorClasses;
  readonly #errors: ErrorContext;
  readonly #maxTokensParam: MaxTokensParam;
  readonly #providerOptions: OpenAITargetOptions['providerOptions'];

  constructor(options: OpenAITargetOptions) {
    this.model = options.model;
    this.#providerOptions = options.providerOptions && structuredClone(options.providerOptions);
    const base = options.client;
    // The SDK retries twice by default, invisibly multiplying Bulwark's retries; its 10-minute
    // timeout would race Bulwark's. withOptions() clones the client with the same credentials,
    // baseURL, headers and fetch; the per-request options below repeat the same for clients
    // without withOptions (wrappers, fakes).
    this.#client = typeof base.withOptions === 'function' ? base.withOptions({ maxRetries: 0, timeout: NO_SDK_TIMEOUT_MS }) : base;
    const endpoint = endpointOf(this.#client.baseURL ?? base.baseURL);
    if (endpoint.serverAddress !== undefined) this.serverAddress = endpoint.serverAddress;
    if (endpoint.serverPort !== undefined) this.serverPort = endpoint.serverPort;
    this.provider = options.providerName ?? (isAzureOpenAI(base, endpoint.serverAddress) ? 'azure.ai.openai' : 'openai');
    this.#maxTokensParam =
      options.maxTokensParam ?? (endpoint.serverAddress === 'api.openai.com' ? 'max_completion_tokens' : 'max_tokens');
    this.#classes = sdkErrorClassesOf(base);
    const client = this.#client;
    this.#errors = { provider: this.provider, model: this.model, secrets: () => [...secretsOf(client), ...secretsOf(base)] };
  }

  async chat(request: ChatRequest, { signal, rateLimits }: AttemptOptions): Promise<ProviderResponse> {
    const ctx = { provider: this.provider, model: this.model, maxTokensParam: this.#maxTokensParam };
    let body: unknown;
    try {
      body = await callPrepared(ctx, () => this.#params(request, ctx), (params) =>
        readingRateLimits(this.#client.chat.completions.create(params, this.#requestOptions(signal)), rateLimits, parseOpenAIRateLimits),
      );
    } catch (err) {
      throw normalizeThrown(err, signal, this.#classes, this.#errors);
    }
    return fromOpenAICompletion(body, ctx);
  }

  stream(request: ChatRequest, { signal, rateLimits }: AttemptOptions): AsyncIterable<StreamEvent> {
    const ctx = { provider: this.provider, model: this.model, maxTokensParam: this.#maxTokensParam };
    return streamFromSdk<unknown>(
      async () => {
        const stream = await callPrepared(
          ctx,
          () => ({ ...this.#params(request, ctx), stream: true as const, stream_options: { include_usage: true } }),
          (params) => readingRateLimits(this.#client.chat.completions.create(params, this.#requestOptions(signal)), rateLimits, parseOpenAIRateLimits),
        );
        return stream as SdkStream<unknown>;
      },
      new OpenAIStreamMapper(ctx),
      signal,
      (err) => normalizeThrown(err, signal, this.#classes, this.#errors),
    );
  }

  /** The body: the converted request, then this provider's options (target's, then the request's). */
  #params(request: ChatRequest, ctx: { provider: string; model: string; maxTokensParam: MaxTokensParam }) {
    return withProviderOptions(toOpenAIParams(request, ctx), this.#providerOptions, request.providerOptions, ctx);
  }

  #requestOptions(signal: AbortSignal): OpenAI.RequestOptions {
    return { signal, maxRetries: 0, timeout: NO_SDK_TIMEOUT_MS };
  }
}
