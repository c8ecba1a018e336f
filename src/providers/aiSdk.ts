import type { LanguageModelV4, LanguageModelV4StreamPart } from '@ai-sdk/provider';
import type { ChatRequest, ProviderResponse, StreamEvent } from '../request/types.js';
import type { AttemptOptions, ProviderAdapter, Target, TargetOptions } from './adapter.js';
import { AiSdkStreamMapper, fromAiSdkResult, toAiSdkCall } from './aiSdkConvert.js';
import { normalizeAiSdkThrown } from './aiSdkErrors.js';
import { ProviderError } from '../errors/providerError.js';
import { mergedProviderOptions } from '../validation/providerOptions.js';
import type { ProviderOptions } from '../request/types.js';
import type { ErrorContext } from './errorMapping.js';
import { callPrepared } from './prepareCall.js';
import { ANTHROPIC_RATE_LIMIT_HEADERS, headerRecord, OPENAI_RATE_LIMIT_HEADERS, parseAnyRateLimits, reportRateLimits } from './rateLimitHeaders.js';
import { type SdkStream, streamFromSdk } from './sdkStream.js';
import { endpointOf, makeTarget, validateTargetOptions } from './targetOptions.js';
import { fail, string } from '../validation/walk.js';

export interface AiSdkTargetOptions extends Omit<TargetOptions, 'model'> {
  /**
   * An AI SDK language model (specification v4: `openai('gpt-4o')`, `google('gemini-2.5-flash')`,
   * `bedrock(…)`, `mistral(…)`, …). Bulwark calls its `doGenerate` / `doStream` directly, which
   * never retry: the AI SDK's retries live in `generateText`, so Bulwark's are the only ones.
   */
  model: LanguageModelV4;
  /** `gen_ai.provider.name`. Default: from the model's provider id (see `genAiProviderName`). */
  providerName?: string;
}

/**
 * AI SDK provider ids (the part before the first dot) as GenAI semantic-convention
 * `gen_ai.provider.name` well-known values (v1.41); other providers keep their own id.
 */
const WELL_KNOWN_PROVIDERS: Record<string, string> = {
  openai: 'openai',
  anthropic: 'anthropic',
  google: 'gcp.gemini',
  'google.vertex': 'gcp.vertex_ai',
  vertex: 'gcp.vertex_ai',
  'amazon-bedrock': 'aws.bedrock',
  bedrock: 'aws.bedrock',
  azure: 'azure.ai.openai',
  mistral: 'mistral_ai',
  groq: 'groq',
  xai: 'x_ai',
  deepseek: 'deepseek',
  cohere: 'cohere',
  perplexity: 'perplexity',
};

/** `openai.chat` → openai, `google.generative-ai` → gcp.gemini, `google.vertex.chat` → gcp.vertex_ai. */
export function genAiProviderName(providerId: string): string {
  const [first = providerId, second] = providerId.split('.');
  return WELL_KNOWN_PROVIDERS[`${first}.${second}`] ?? WELL_KNOWN_PROVIDERS[first] ?? first;
}

function languageModel(value: unknown, path: string): LanguageModelV4 {
  const model = value as Partial<LanguageModelV4> | null;
  if (model === null || typeof model !== 'object') fail(path, 'must be an AI SDK language model (e.g. openai(\'gpt-4o\'))');
  if (model.specificationVersion !== 'v4') {
    fail(path, `must implement the AI SDK language model specification v4 (ai 7.x); it says ${String(model.specificationVersion)}`);
  }
  if (typeof model.doGenerate !== 'function' || typeof model.doStream !== 'function') fail(path, 'has no doGenerate()/doStream()');
  if (typeof model.provider !== 'string' || typeof model.modelId !== 'string' || model.modelId === '') fail(path, 'has no provider / modelId');
  return model as LanguageModelV4;
}

/** Any AI SDK provider model as a chain target. Created through `bulwark/ai-sdk`. */
export function aiSdkTarget(options: AiSdkTargetOptions): Target {
  validateTargetOptions('aiSdkTarget', options, { model: { required: true, check: languageModel }, providerName: string({ nonEmpty: true }) });
  const adapter = new AiSdkAdapter(options);
  return makeTarget(adapter, { ...options, model: adapter.model });
}

/** Header values that are credentials, read from the model's config (for redaction only). */
function secretsOfModel(model: LanguageModelV4): string[] {
  try {
    const headers = (model as unknown as { config?: { headers?: () => unknown } }).config?.headers?.();
    if (headers === null || typeof headers !== 'object') return [];
    return Object.entries(headers as Record<string, unknown>)
      .filter(([name, value]) => typeof value === 'string' && /key|auth|token/i.test(name))
      .map(([, value]) => (value as string).replace(/^(?:Bearer|Basic)\s+/i, ''))
      .filter((value) => value.length >= 6);
  } catch {
    return [];
  }
}

class AiSdkAdapter implements ProviderAdapter {
  readonly provider: string;
  readonly model: string;
  readonly serverAddress?: string;
  readonly serverPort?: number;
  /** Either family (parseAnyRateLimits): the model may speak to OpenAI, Azure, an OpenAI-compatible server or Anthropic. */
  readonly rateLimitHeaders = [...OPENAI_RATE_LIMIT_HEADERS, ...ANTHROPIC_RATE_LIMIT_HEADERS];
  // Private (#) so that inspecting a target never walks into the model's config and its key.
  readonly #model: LanguageModelV4;
  readonly #errors: ErrorContext;
  /** The AI SDK's key for this provider's options (`openai`, `anthropic`, `google`, …). */
  readonly #optionsKey: string;
  readonly #providerOptions: ProviderOptions | undefined;

  constructor(options: AiSdkTargetOptions) {
    this.#model = options.model;
    this.model = options.model.modelId;
    this.provider = options.providerName ?? genAiProviderName(options.model.provider);
    // The providers' models keep their base URL in `config.baseURL` (not part of the spec: best effort).
    const endpoint = endpointOf((options.model as unknown as { config?: { baseURL?: unknown } }).config?.baseURL);
    if (endpoint.serverAddress !== undefined) this.serverAddress = endpoint.serverAddress;
    if (endpoint.serverPort !== undefined) this.serverPort = endpoint.serverPort;
    const model = options.model;
    this.#errors = { provider: this.provider, model: this.model, secrets: () => secretsOfModel(model) };
    this.#optionsKey = options.model.provider.split('.')[0] ?? options.model.provider;
    this.#providerOptions = options.providerOptions && structuredClone(options.providerOptions);
  }

  /**
   * The call for one attempt. Provider options (the target's entry for this provider, the request's over
   * it) go to the model as its own AI SDK provider options: the provider package's option names, not raw
   * body fields. `parallelToolCalls` has no AI SDK call option: it becomes the OpenAI and Anthropic models'
   * own option, and is refused (before any call) for other providers rather than dropped.
   */
  #call(request: ChatRequest, signal: AbortSignal) {
    const ctx = { provider: this.provider, model: this.model, providerId: this.#model.provider };
    const call = toAiSdkCall(request, signal, ctx);
    const options = mergedProviderOptions(this.provider, this.#providerOptions, request.providerOptions);
    if (request.parallelToolCalls !== undefined && request.tools !== undefined && request.tools.length > 0) {
      if (this.#optionsKey === 'openai' || this.#optionsKey === 'azure') options['parallelToolCalls'] ??= request.parallelToolCalls;
      else if (this.#optionsKey === 'anthropic') options['disableParallelToolUse'] ??= !request.parallelToolCalls;
      else {
        throw new ProviderError({ ...ctx, errorType: 'bad_request', local: true, message: `Invalid request: parallelToolCalls cannot be sent to ${this.#model.provider} models through aiSdkTarget` });
      }
    }
    if (Object.keys(options).length > 0) call.providerOptions = { [this.#optionsKey]: options as Record<string, never> };
    return call;
  }

  /**
   * The answer's rate-limit headers (the model's `response.headers`: OpenAI's or Anthropic's
   * families, whichever the provider sends) go to the same reader as the official clients' do.
   */
  async chat(request: ChatRequest, { signal, rateLimits }: AttemptOptions): Promise<ProviderResponse> {
    const ctx = { provider: this.provider, model: this.model, providerId: this.#model.provider };
    let result;
    try {
      result = await callPrepared(ctx, () => this.#call(request, signal), (call) => this.#model.doGenerate(call));
    } catch (err) {
      throw normalizeAiSdkThrown(err, signal, this.#errors);
    }
    reportRateLimits(headerRecord(result.response?.headers), rateLimits, parseAnyRateLimits);
    return fromAiSdkResult(result, ctx);
  }

  stream(request: ChatRequest, { signal, rateLimits }: AttemptOptions): AsyncIterable<StreamEvent> {
    const ctx = { provider: this.provider, model: this.model, providerId: this.#model.provider };
    return streamFromSdk<LanguageModelV4StreamPart>(
      async () => {
        // The stream driver aborts this controller to close the HTTP request when iteration stops early.
        const controller = new AbortController();
        const { stream, response } = await callPrepared(ctx, () => this.#call(request, AbortSignal.any([signal, controller.signal])), (call) => this.#model.doStream(call));
        reportRateLimits(headerRecord(response?.headers), rateLimits, parseAnyRateLimits);
        return Object.assign(stream, { controller }) as unknown as SdkStream<LanguageModelV4StreamPart>;
      },
      new AiSdkStreamMapper(ctx),
      signal,
      (err) => normalizeAiSdkThrown(err, signal, this.#errors),
    );
  }
}
