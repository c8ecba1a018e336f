import type Anthropic from '@anthropic-ai/sdk';
import type { ChatRequest, ProviderResponse, StreamEvent } from '../request/types.js';
import type { AttemptOptions, ProviderAdapter, Target, TargetOptions } from './adapter.js';
import { type AnthropicConvertContext, type AnthropicParams, AnthropicStreamMapper, fromAnthropicMessage, toAnthropicParams } from './anthropicConvert.js';
import { mergedProviderOptions } from '../validation/providerOptions.js';
import { withProviderOptions } from './providerOptionsBody.js';
import { type ErrorContext, type SdkErrorClasses, normalizeThrown, sdkErrorClassesOf, secretsOf } from './errorMapping.js';
import { callPrepared } from './prepareCall.js';
import { type SdkStream, streamFromSdk } from './sdkStream.js';
import { ANTHROPIC_RATE_LIMIT_HEADERS, parseAnthropicRateLimits, readingRateLimits } from './rateLimitHeaders.js';
import {
  NO_SDK_TIMEOUT_MS,
  endpointOf,
  makeTarget,
  validateClient,
  validateTargetOptions,
} from './targetOptions.js';
import { ANTHROPIC_DEFAULTS } from './capabilities.js';
import { boolean, finite, string } from '../validation/walk.js';

export const DEFAULT_ANTHROPIC_MAX_TOKENS = 4096;

export interface AnthropicTargetOptions extends TargetOptions {
  /**
   * An official `@anthropic-ai/sdk` client. Its own retries and timeout are switched off for
   * Bulwark's calls (Bulwark owns both); the client you pass is not modified.
   */
  client: Anthropic;
  /** `max_tokens` when the request sets none (the Messages API requires it). Default 4096. */
  defaultMaxTokens?: number;
  /** `gen_ai.provider.name` for this target. Default 'anthropic'. */
  providerName?: string;
  /**
   * Send the request's `temperature` / `topP`. Default false: API version 2026-10-21 (what
   * `@anthropic-ai/sdk` ≥ 1.0 sends) rejects them with a 400, even at default values, which would
   * fail the request at the Anthropic hop. Set true only for a client pinned to
   * `anthropic-version: 2023-06-01` (older SDKs, or that header in `defaultHeaders`).
   */
  sendSamplingParams?: boolean;
}

type SdkLogger = Anthropic['logger'];

/**
 * When a stream event is not valid JSON, the Anthropic SDK writes the raw event data and chunk to the
 * client's logger (the console by default) at level error, before throwing. That data is answer
 * content, and whatever a misbehaving server put there: it would reach logs although content capture
 * is opt-in and keys are never to be recorded. Bulwark reports the failure itself (a redacted
 * `malformed_response`), so those two lines are dropped; every other SDK log line reaches the
 * client's logger, at the client's level, as before.
 */
const RAW_EVENT_DUMP = /^(?:Could not parse message into JSON:|From chunk:)/;

function withoutRawEventDumps(logger: SdkLogger): SdkLogger {
  return {
    error: (message, ...rest) => {
      if (typeof message === 'string' && RAW_EVENT_DUMP.test(message)) return;
      logger.error(message, ...rest);
    },
    warn: (message, ...rest) => logger.warn(message, ...rest),
    info: (message, ...rest) => logger.info(message, ...rest),
    debug: (message, ...rest) => logger.debug(message, ...rest),
  };
}

/** A chain target served by the Anthropic Messages API. */
export function anthropicTarget(options: AnthropicTargetOptions): Target {
  validateTargetOptions('anthropicTarget', options, {
    defaultMaxTokens: finite({ integer: true, above: 0, unit: 'tokens' }),
    providerName: string({ nonEmpty: true }),
    sendSamplingParams: boolean,
  });
  validateClient('anthropicTarget', options.client, ['messages', 'create'], 'Anthropic');
  return makeTarget(new AnthropicAdapter(options), options, ANTHROPIC_DEFAULTS);
}

class AnthropicAdapter implements ProviderAdapter {
  readonly provider: string;
  readonly model: string;
  readonly serverAddress?: string;
  readonly serverPort?: number;
  readonly rateLimitHeaders = ANTHROPIC_RATE_LIMIT_HEADERS;
  // Private (#) so that logging or inspecting a target never walks into the client and its key.
  readonly #client: Anthropic;
  readonly #classes: SdkErrorClasses;
  readonly #errors: ErrorContext;
  readonly #defaultMaxTokens: number;
  readonly #sendSamplingParams: boolean;
  readonly #providerOptions: AnthropicTargetOptions['providerOptions'];

  constructor(options: AnthropicTargetOptions) {
    this.provider = options.providerName ?? 'anthropic';
    this.model = options.model;
    this.#providerOptions = options.providerOptions && structuredClone(options.providerOptions);
    // A request without maxTokens must not ask for more than the target allows either.
    this.#defaultMaxTokens = Math.min(options.defaultMaxTokens ?? DEFAULT_ANTHROPIC_MAX_TOKENS, options.maxOutputTokens ?? Number.POSITIVE_INFINITY);
    this.#sendSamplingParams = options.sendSamplingParams ?? false;
    const base = options.client;
    // maxRetries: the SDK retries twice by default, invisibly multiplying Bulwark's retries.
    // timeout: an explicit one also stops the SDK from refusing large max_tokens without streaming
    // ("Streaming is required for operations that may take longer than 10 minutes").
    // logger: the client's own, minus the raw event the SDK prints when a stream event is not JSON.
    this.#client =
      typeof base.withOptions === 'function'
        ? base.withOptions({ maxRetries: 0, timeout: NO_SDK_TIMEOUT_MS, logger: withoutRawEventDumps(base.logger ?? console) })
        : base;
    const endpoint = endpointOf(this.#client.baseURL ?? base.baseURL);
    if (endpoint.serverAddress !== undefined) this.serverAddress = endpoint.serverAddress;
    if (endpoint.serverPort !== undefined) this.serverPort = endpoint.serverPort;
    this.#classes = sdkErrorClassesOf(base);
    const client = this.#client;
    this.#errors = { provider: this.provider, model: this.model, secrets: () => [...secretsOf(client), ...secretsOf(base)] };
  }

  async chat(request: ChatRequest, { signal, rateLimits }: AttemptOptions): Promise<ProviderResponse> {
    const ctx = this.#convertContext();
    let body: unknown;
    try {
      body = await callPrepared(ctx, () => this.#params(request, ctx), ({ params, betas }) =>
        readingRateLimits(this.#client.messages.create(params, this.#requestOptions(signal, betas)), rateLimits, parseAnthropicRateLimits),
      );
    } catch (err) {
      throw normalizeThrown(err, signal, this.#classes, this.#errors);
    }
    return fromAnthropicMessage(body, ctx);
  }

  stream(request: ChatRequest, { signal, rateLimits }: AttemptOptions): AsyncIterable<StreamEvent> {
    const ctx = this.#convertContext();
    return streamFromSdk<unknown>(
      async () => {
        const stream = await callPrepared(
          ctx,
          () => this.#params(request, ctx),
          ({ params, betas }) =>
            readingRateLimits(this.#client.messages.create({ ...params, stream: true as const }, this.#requestOptions(signal, betas)), rateLimits, parseAnthropicRateLimits),
        );
        return stream as SdkStream<unknown>;
      },
      new AnthropicStreamMapper(ctx),
      signal,
      (err) => normalizeThrown(err, signal, this.#classes, this.#errors),
    );
  }

  #convertContext(): AnthropicConvertContext {
    return {
      provider: this.provider,
      model: this.model,
      defaultMaxTokens: this.#defaultMaxTokens,
      sendSamplingParams: this.#sendSamplingParams,
    };
  }

  /**
   * The body: the converted request, then this provider's options (target's, then the request's).
   * `betas` is no body field: it goes out as the `anthropic-beta` header.
   */
  #params(request: ChatRequest, ctx: AnthropicConvertContext): { params: AnthropicParams; betas: string[] } {
    const { betas } = mergedProviderOptions(this.provider, this.#providerOptions, request.providerOptions);
    const params = withProviderOptions(toAnthropicParams(request, ctx), this.#providerOptions, request.providerOptions, ctx, ['betas']);
    return { params, betas: Array.isArray(betas) ? betas.filter((b): b is string => typeof b === 'string') : [] };
  }

  #requestOptions(signal: AbortSignal, betas: string[]): Anthropic.RequestOptions {
    return { signal, maxRetries: 0, timeout: NO_SDK_TIMEOUT_MS, ...(betas.length > 0 && { headers: { 'anthropic-beta': betas.join(',') } }) };
  }
}
