/**
 * The fault-injecting mock server: real HTTP on 127.0.0.1 speaking OpenAI Chat Completions and Anthropic
 * Messages, with scriptable faults per route / provider / model, and a log of every request.
 */
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { setTimeout as sleepTimer } from 'node:timers/promises';
import { anthropicWire } from './anthropicWire.js';
import { geminiWire } from './geminiWire.js';
import type { ContextLengthFault, Fault, Provider, Reply } from './faults.js';
import { sampleLatency, validateLatency } from './latency.js';
import type { Latency } from './latency.js';
import { openaiWire } from './openaiWire.js';
import type { ProviderWire, ResolvedReply, WireContext, WireError } from './providerWire.js';
import { createRandom } from './random.js';
import type { RandomSource } from './random.js';
import { matchesRequest, redactHeaders } from './requestLog.js';
import type { FaultSource, RecordedRequest, RequestMatcher } from './requestLog.js';
import { PromptCacheSimulation } from './promptCache.js';
import { exampleOf, requestedSchema } from './requestChecks.js';
import { LimitBook } from './routeLimits.js';
import type { RouteLimit, RouteLimitHandle } from './routeLimits.js';
import { ScriptBook } from './script.js';
import type { Script, ScriptHandle } from './script.js';
import { SSE_HEADERS, formatSseEvent } from './sse.js';
import type { SseEvent } from './sse.js';
import { estimateInputTokens, estimateTextTokens } from './tokens.js';

/** Per-model behaviour. */
export interface ModelSpec {
  /**
   * Context window in tokens. A request whose estimated input tokens (ceil(chars/4), see
   * `estimateInputTokens`) exceed it gets the provider's context-length error instead of a 200.
   */
  contextWindow?: number;
}

/** Options of {@link startFaultServer}. All optional. */
export interface FaultServerOptions {
  /** Port to listen on. Default 0 (an ephemeral port). */
  port?: number;
  /** Interface to listen on. Default `127.0.0.1`. */
  host?: string;
  /**
   * The clock used for outage windows, `startedAt` / `endedAt`, `created` fields and the absolute timestamps
   * in rate-limit headers and the windows of `limit()`. Default `Date.now`. Latency and stream pacing use real
   * timers unless `sleep` is given.
   */
  now?: () => number;
  /**
   * Waits used for latency, slow first bytes, chunk delays and endless / slowloris pacing: resolve after `ms`,
   * reject when `signal` aborts. Give a test's fake clock (`clock.sleep` in `'wait'` mode, with `now: clock.now`)
   * to script "10 % of calls after 3 s" without waiting 3 s. Default: real timers.
   */
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  /** Seed for probabilistic faults and latency distributions. Default: random (non-reproducible). */
  seed?: number;
  /** Per-model settings, e.g. `{ 'gpt-4o-mini': { contextWindow: 128_000 } }`. */
  models?: Record<string, ModelSpec>;
  /** Latency for requests whose script has none (and for unscripted requests). Default: none. */
  latency?: Latency;
  /** What a successful answer contains when the fault does not say. */
  defaultReply?: Reply;
  /**
   * Most requests kept in `requests` (the newest), for long runs: `hits()` still counts every
   * request since start or the last `reset()`. Default: every request is kept.
   */
  maxRecordedRequests?: number;
}

/** A running fault server. */
export interface FaultServer {
  /** `http://127.0.0.1:PORT` (the listening host and port). */
  readonly url: string;
  readonly port: number;
  /**
   * The base URL to give an official client for `route` (default: the unprefixed route).
   * - `baseURL('openai', 'primary')` → `http://127.0.0.1:PORT/primary/v1` (OpenAI appends `/chat/completions`);
   * - `baseURL('anthropic', 'backup')` → `http://127.0.0.1:PORT/backup` (Anthropic appends `/v1/messages`).
   *
   * Route names are path segments (`[A-Za-z0-9._~-]`, `/` allowed between segments).
   */
  baseURL(provider: Provider, route?: string): string;
  /**
   * Installs a script for every request (first form) or the requests a matcher selects. When several scripts
   * match, the most specific matcher wins (most fields set), then the latest installed.
   *
   * @example
   * server.script({ route: 'primary' }, { sequence: [fault.rateLimit(), fault.serverError(503)] });
   * server.script({ provider: 'anthropic' }, { outages: [{ fromMs: 0, toMs: 5_000, fault: fault.overloaded() }] });
   * server.script({ model: 'gpt-4o' }, { random: [{ probability: 0.2, fault: fault.reset() }], latency: { kind: 'uniform', minMs: 5, maxMs: 20 } });
   */
  script(script: Script): ScriptHandle;
  script(matcher: RequestMatcher, script: Script): ScriptHandle;
  /**
   * Enforces a provider rate limit (sliding window on the server clock) on the requests `matcher` selects:
   * every answer carries the provider's rate-limit headers computed from it, and a request that would exceed
   * it gets the provider's 429 (with `retry-after` and the reset headers) before any script plays. Several
   * limits may match one request: all must admit it. Cleared by `reset()`. See {@link RouteLimit}.
   *
   * @example
   * const primary = server.limit({ route: 'primary' }, { rpm: 3, tpm: 10_000 });
   * // the 4th request within 60 s (server clock) gets 429 rate_limit_exceeded; primary.refused === 1
   */
  limit(matcher: RequestMatcher, limit: RouteLimit): RouteLimitHandle;
  /** Sets (or replaces) a model's settings at runtime. Survives `reset()`. */
  setModel(model: string, spec: ModelSpec): void;
  /**
   * Every request since start or the last `reset()` — the newest `maxRecordedRequests` of them when
   * that is set — in arrival order (a copy; entries update live).
   */
  readonly requests: readonly RecordedRequest[];
  /** How many requests since start or the last `reset()` match (all of them without a matcher), kept in `requests` or not. */
  hits(matcher?: RequestMatcher): number;
  /**
   * Resolves once no request is in flight (every response finished or its connection closed). Use it before
   * asserting on `clientClosed`: the server learns of a client's close asynchronously.
   * Rejects after `timeoutMs` (default 2000).
   */
  idle(options?: { timeoutMs?: number }): Promise<void>;
  /** Clears scripts, limits and the request log and re-seeds the random source. Model settings stay. */
  reset(): void;
  /** Stops listening and destroys every socket, hung and stalled ones included. Never hangs; idempotent. */
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * Starts a fault server on 127.0.0.1 (ephemeral port by default).
 *
 * @example
 * const server = await startFaultServer({ seed: 1, models: { 'gpt-4o': { contextWindow: 128_000 } } });
 * const openai = new OpenAI({ apiKey: 'test', baseURL: server.baseURL('openai', 'primary'), maxRetries: 0 });
 * server.script({ route: 'primary' }, { sequence: [fault.rateLimit({ retryAfterMs: 100 })] });
 * await openai.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] }); // RateLimitError
 * await server.close();
 */
export async function startFaultServer(options: FaultServerOptions = {}): Promise<FaultServer> {
  const server = new FaultServerImpl(options);
  await server.listen(options.port ?? 0, options.host ?? '127.0.0.1');
  return server;
}

type MutableRecord = { -readonly [K in keyof RecordedRequest]: RecordedRequest[K] };

interface Exchange {
  req: IncomingMessage;
  res: ServerResponse;
  signal: AbortSignal;
  /** Set before the server itself ends the connection, so the close is not blamed on the client. */
  serverClosing: boolean;
  record: MutableRecord | undefined;
  /** `options.sleep`, when the test controls time. */
  sleep: FaultServerOptions['sleep'];
  /** Counts the answer's output tokens toward the route limits that admitted the request. */
  settle: ((outputTokens: number) => void) | undefined;
}

const ENDPOINT = /^(?:\/(.+?))?\/v1\/(chat\/completions|messages)\/?$/;
/** Gemini: the model and the method are in the path (`/v1beta/models/gemini-2.5-flash:streamGenerateContent`). */
const GEMINI_ENDPOINT = /^(?:\/(.+?))?\/v1beta\/models\/([^/:]+):(generateContent|streamGenerateContent)$/;
const WIRES: Record<Provider, ProviderWire> = { openai: openaiWire, anthropic: anthropicWire, gemini: geminiWire };
const ROUTE_NAME = /^[A-Za-z0-9._~-]+(?:\/[A-Za-z0-9._~-]+)*$/;
const DEFAULT_ROUTE = 'default';
const MAX_BODY_BYTES = 64 * 1024 * 1024;
const OK_LIKE: ReadonlySet<Fault['kind']> = new Set(['ok', 'slowFirstByte', 'streamCut', 'streamError']);

class FaultServerImpl implements FaultServer {
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();
  readonly #inFlight = new Set<Exchange>();
  readonly #idleWaiters = new Set<() => void>();
  readonly #scripts = new ScriptBook();
  readonly #limits = new LimitBook();
  readonly #promptCache = new PromptCacheSimulation();
  readonly #models = new Map<string, ModelSpec>();
  readonly #now: () => number;
  readonly #seed: number;
  readonly #options: FaultServerOptions;
  #random: RandomSource;
  #log: MutableRecord[] = [];
  readonly #maxRecorded: number;
  /** Requests per (route, provider, model), so `hits()` stays exact when the log is bounded. */
  #counts = new Map<string, { route: string; provider: Provider | undefined; model: string | undefined; count: number }>();
  #seq = 0;
  #port = 0;
  #host = '127.0.0.1';
  #closing: Promise<void> | undefined;

  constructor(options: FaultServerOptions) {
    const max = options.maxRecordedRequests;
    if (max !== undefined && !(Number.isInteger(max) && max >= 0)) {
      throw new RangeError(`maxRecordedRequests must be an integer >= 0, got ${String(max)}`);
    }
    this.#maxRecorded = max ?? Number.POSITIVE_INFINITY;
    validateLatency(options.latency, 'options.latency');
    this.#options = options;
    this.#now = options.now ?? Date.now;
    this.#seed = options.seed ?? Math.floor(Math.random() * 2 ** 32);
    this.#random = createRandom(this.#seed);
    for (const [model, spec] of Object.entries(options.models ?? {})) this.#models.set(model, spec);
    this.#server = createServer((req, res) => {
      void this.#handle(req, res).catch(() => {
        // A handler bug must not crash the test process; the client sees the connection drop.
        if (!res.destroyed) res.destroy();
      });
    });
    this.#server.on('connection', (socket) => {
      this.#sockets.add(socket);
      socket.on('close', () => this.#sockets.delete(socket));
    });
  }

  listen(port: number, host: string): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(port, host, () => {
        this.#server.off('error', reject);
        const address = this.#server.address();
        this.#port = typeof address === 'object' && address ? address.port : port;
        this.#host = host.includes(':') ? `[${host}]` : host;
        resolve();
      });
    });
  }

  get port(): number {
    return this.#port;
  }

  get url(): string {
    return `http://${this.#host}:${this.#port}`;
  }

  baseURL(provider: Provider, route?: string): string {
    let prefix = '';
    if (route !== undefined && route !== DEFAULT_ROUTE) {
      if (!ROUTE_NAME.test(route) || /(^|\/)v1(\/|$)/.test(route)) {
        throw new TypeError(`route must be path segments of [A-Za-z0-9._~-] and not contain "v1", got ${JSON.stringify(route)}`);
      }
      prefix = `/${route}`;
    }
    if (provider === 'gemini') return `${this.url}${prefix}/v1beta`;
    return provider === 'openai' ? `${this.url}${prefix}/v1` : `${this.url}${prefix}`;
  }

  script(a: Script | RequestMatcher, b?: Script): ScriptHandle {
    const [matcher, script] = b === undefined ? [{}, a as Script] : [a as RequestMatcher, b];
    return this.#scripts.install(matcher, script, this.#now());
  }

  limit(matcher: RequestMatcher, limit: RouteLimit): RouteLimitHandle {
    return this.#limits.install(matcher, limit);
  }

  setModel(model: string, spec: ModelSpec): void {
    this.#models.set(model, spec);
  }

  get requests(): readonly RecordedRequest[] {
    return this.#log.length > this.#maxRecorded ? this.#log.slice(this.#log.length - this.#maxRecorded) : [...this.#log];
  }

  hits(matcher?: RequestMatcher): number {
    let hits = 0;
    for (const entry of this.#counts.values()) if (matchesRequest(matcher, entry)) hits += entry.count;
    return hits;
  }

  #remember(entry: MutableRecord): void {
    const key = JSON.stringify([entry.route, entry.provider ?? null, entry.model ?? null]);
    const counted = this.#counts.get(key);
    if (counted) counted.count++;
    else this.#counts.set(key, { route: entry.route, provider: entry.provider, model: entry.model, count: 1 });
    if (this.#maxRecorded === 0) return;
    this.#log.push(entry);
    // Trimmed in batches (amortised O(1) per request); `requests` shows only the newest.
    if (this.#log.length >= 2 * this.#maxRecorded) this.#log = this.#log.slice(this.#log.length - this.#maxRecorded);
  }

  idle({ timeoutMs = 2000 }: { timeoutMs?: number } = {}): Promise<void> {
    if (this.#inFlight.size === 0) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const done = () => {
        clearTimeout(timer);
        this.#idleWaiters.delete(done);
        resolve();
      };
      const timer = setTimeout(() => {
        this.#idleWaiters.delete(done);
        reject(new Error(`fault server still has ${this.#inFlight.size} request(s) in flight after ${timeoutMs} ms`));
      }, timeoutMs);
      this.#idleWaiters.add(done);
    });
  }

  reset(): void {
    this.#scripts.clear();
    this.#limits.clear();
    this.#promptCache.clear();
    this.#log = [];
    this.#counts = new Map();
    this.#random = createRandom(this.#seed);
  }

  close(): Promise<void> {
    this.#closing ??= new Promise<void>((resolve) => {
      for (const exchange of this.#inFlight) exchange.serverClosing = true;
      this.#server.close(() => resolve());
      this.#server.closeAllConnections();
      for (const socket of this.#sockets) socket.destroy();
    });
    return this.#closing;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  // ---- one request --------------------------------------------------------------------------------------

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const arrivedAt = this.#now();
    const controller = new AbortController();
    const exchange: Exchange = {
      req,
      res,
      signal: controller.signal,
      serverClosing: this.#closing !== undefined,
      record: undefined,
      sleep: this.#options.sleep,
      settle: undefined,
    };
    this.#inFlight.add(exchange);
    res.on('error', () => {});
    res.on('close', () => {
      const record = exchange.record;
      if (record) {
        record.endedAt = this.#now();
        record.finished = res.writableFinished;
        if (!res.writableFinished) {
          if (exchange.serverClosing) record.serverClosed = true;
          else record.clientClosed = true;
        }
      }
      controller.abort();
      this.#inFlight.delete(exchange);
      if (this.#inFlight.size === 0) for (const wake of [...this.#idleWaiters]) wake();
    });

    const raw = await readBody(req);
    if (raw === undefined || controller.signal.aborted) return;

    const seq = ++this.#seq;
    const url = new URL(req.url ?? '/', 'http://localhost');
    const pathname = url.pathname;
    const match = ENDPOINT.exec(pathname);
    const gemini = match ? null : GEMINI_ENDPOINT.exec(pathname);
    const route = match?.[1] ?? gemini?.[1] ?? DEFAULT_ROUTE;
    const provider: Provider | undefined = match ? (match[2] === 'messages' ? 'anthropic' : 'openai') : gemini ? 'gemini' : undefined;

    let body: unknown = raw;
    let parsed = false;
    try {
      body = raw === '' ? undefined : JSON.parse(raw);
      parsed = typeof body === 'object' && body !== null && !Array.isArray(body);
    } catch {
      parsed = false;
    }
    const bodyRecord = (parsed ? body : {}) as Record<string, unknown>;
    const model = gemini ? decodeURIComponent(gemini[2]!) : typeof bodyRecord['model'] === 'string' ? bodyRecord['model'] : undefined;
    const stream = gemini ? gemini[3] === 'streamGenerateContent' : bodyRecord['stream'] === true;
    const inputTokens = estimateInputTokens(bodyRecord);

    const record = (fault: Fault, faultSource: FaultSource): MutableRecord => {
      const entry: MutableRecord = {
        seq,
        route,
        provider,
        model,
        method: req.method ?? 'GET',
        path: pathname,
        stream,
        body,
        headers: redactHeaders(req.headers),
        estimatedInputTokens: inputTokens,
        startedAt: arrivedAt,
        fault,
        faultSource,
        status: undefined,
        finished: false,
        clientClosed: false,
        serverClosed: false,
        endedAt: undefined,
      };
      this.#remember(entry);
      exchange.record = entry;
      return entry;
    };

    if (!provider || req.method !== 'POST') {
      const status = 404;
      record({ kind: 'httpError', status }, 'invalidRequest');
      sendJson(exchange, status, {}, {
        error: {
          message: `Unknown request URL: ${req.method ?? 'GET'} ${pathname}. The fault server serves POST [/<route>]/v1/chat/completions, POST [/<route>]/v1/messages and POST [/<route>]/v1beta/models/<model>:generateContent | :streamGenerateContent?alt=sse.`,
          type: 'invalid_request_error',
          param: null,
          code: 'unknown_url',
        },
      });
      return;
    }

    let wire = WIRES[provider];
    const ctx: WireContext = { route, model: model ?? '', body: bodyRecord, inputTokens, seq, nowMs: this.#now(), headers: redactHeaders(req.headers) };
    // Anthropic's prompt cache, simulated for answers (an error writes nothing): see promptCache.ts.
    if (provider === 'anthropic') ctx.promptCache = () => this.#promptCache.usage(model ?? '', bodyRecord);

    if (!parsed) {
      const fault: Fault = {
        kind: 'badRequest',
        message:
          provider === 'openai'
            ? 'We could not parse the JSON body of your request. (HINT: This likely means you aren\'t using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid JSON.)'
            : 'There was an issue with the request body: invalid JSON.',
      };
      record(fault, 'invalidRequest');
      this.#sendError(exchange, wire, ctx, wire.error(ctx, fault));
      return;
    }
    if (gemini && stream && url.searchParams.get('alt') !== 'sse') {
      // Without alt=sse Google streams one JSON array; the server speaks only the SSE form the clients use.
      const fault: Fault = { kind: 'badRequest', message: 'The fault server streams Gemini answers as server-sent events only: add ?alt=sse.' };
      record(fault, 'invalidRequest');
      this.#sendError(exchange, wire, ctx, wire.error(ctx, fault));
      return;
    }

    // Malformed images, files, documents or tool options: the provider's 400, whatever the script says.
    const problem = wire.checkInput(bodyRecord);
    if (problem) {
      const fault: Fault = { kind: 'badRequest', message: problem.message, param: problem.param };
      record(fault, 'invalidRequest');
      this.#sendError(exchange, wire, ctx, wire.error(ctx, fault));
      return;
    }

    // A field the provider would refuse (structured output, reasoning, prompt-cache shapes): its 400, as it would send it.
    const refused = wire.checkRequest(ctx);
    if (refused) {
      const body = refused.body as { error?: { message?: unknown } };
      record({ kind: 'badRequest', message: typeof body.error?.message === 'string' ? body.error.message : 'Invalid request.' }, 'invalidRequest');
      this.#sendError(exchange, wire, ctx, refused);
      return;
    }

    // A provider checks its rate limits before it does anything else with an acceptable request.
    const verdict = this.#limits.check({ route, provider, model }, inputTokens, ctx.nowMs);
    if (verdict) {
      wire = withHeaders(wire, verdict.headers);
      if (verdict.refusal) {
        record(verdict.refusal, 'limit');
        this.#sendError(exchange, wire, ctx, wire.error(ctx, verdict.refusal));
        return;
      }
      exchange.settle = verdict.settle;
    }

    const decision = this.#scripts.decide({ route, provider, model }, this.#now(), this.#random, this.#options.latency);
    let fault = decision.fault;
    let source = decision.source;
    const contextWindow = model === undefined ? undefined : this.#models.get(model)?.contextWindow;
    if (contextWindow !== undefined && inputTokens > contextWindow && OK_LIKE.has(fault.kind)) {
      fault = { kind: 'contextLength', maxTokens: contextWindow };
      source = 'contextWindow';
    } else if (fault.kind === 'contextLength' && fault.maxTokens === undefined && contextWindow !== undefined) {
      fault = { ...fault, maxTokens: contextWindow } satisfies ContextLengthFault;
    }
    record(fault, source);

    const delayMs = sampleLatency(decision.latency, this.#random);
    if (delayMs > 0 && !(await pause(delayMs, exchange))) return;
    ctx.nowMs = this.#now();
    await this.#play(exchange, wire, ctx, fault, stream);
  }

  async #play(ex: Exchange, wire: ProviderWire, ctx: WireContext, fault: Fault, stream: boolean): Promise<void> {
    switch (fault.kind) {
      case 'ok':
        return this.#answer(ex, wire, ctx, this.#resolveReply(wire, ctx, fault), stream, {});
      case 'slowFirstByte':
        return this.#answer(ex, wire, ctx, this.#resolveReply(wire, ctx, fault.reply ?? {}), stream, { firstByteDelayMs: fault.delayMs });
      case 'contentFilter': {
        const error = wire.contentPolicyError(ctx, fault);
        if (error) return this.#sendError(ex, wire, ctx, error);
        const reply = this.#resolveReply(wire, ctx, { text: fault.text ?? '', finishReason: 'content_filter' });
        return this.#answer(ex, wire, ctx, reply, stream, {});
      }
      case 'hang':
        return; // the exchange stays open until the client or close() ends it
      case 'reset':
        return destroyByServer(ex, 'reset');
      case 'malformedJson':
        return this.#answer(ex, wire, ctx, this.#resolveReply(wire, ctx, {}), stream, { malformed: fault.body ?? true });
      case 'streamCut':
        return this.#answer(ex, wire, ctx, this.#resolveReply(wire, ctx, fault.reply ?? {}), stream, {
          cutAfter: fault.afterChunks ?? 2,
          cutMode: fault.mode ?? 'destroy',
        });
      case 'hugeBody':
        return this.#hugeBody(ex, wire, ctx, fault.bytes, fault.content ?? 'garbage', stream);
      case 'sseGarbage':
        return sendRaw(ex, 200, { ...wire.commonHeaders(ctx), ...SSE_HEADERS }, fault.body ?? SSE_GARBAGE);
      case 'slowHeaders':
        return trickleHeaders(ex, fault.intervalMs ?? 50);
      case 'endless':
        return this.#endless(ex, wire, ctx, stream, fault.intervalMs ?? 50);
      case 'streamError':
        if (!stream) return this.#sendError(ex, wire, ctx, wire.streamErrorAsHttp(ctx, fault));
        return this.#answer(ex, wire, ctx, this.#resolveReply(wire, ctx, fault.reply ?? {}), stream, {
          errorAfter: fault.afterChunks ?? 2,
          errorEvent: wire.streamErrorEvent(ctx, fault),
        });
      default:
        return this.#sendError(ex, wire, ctx, wire.error(ctx, fault));
    }
  }

  #resolveReply(wire: ProviderWire, ctx: WireContext, reply: Reply): ResolvedReply & { chunkDelayMs: number; headers: Record<string, string> } {
    const defaults = this.#options.defaultReply ?? {};
    const useDefaults = reply.text === undefined && reply.toolCalls === undefined;
    const toolCalls = (reply.toolCalls ?? (useDefaults ? defaults.toolCalls : undefined) ?? []).map((call) => ({
      id: call.id,
      name: call.name,
      arguments: typeof call.arguments === 'string' ? call.arguments : JSON.stringify(call.arguments),
    }));
    // A request for structured output gets, unless the script spells the text out, a small valid instance of its schema.
    const schema = reply.text === undefined && !reply.echo && toolCalls.length === 0 ? requestedSchema(ctx.body) : undefined;
    const text =
      (reply.echo ? JSON.stringify(wire.describeInput(ctx)) : undefined) ??
      reply.text ??
      (schema ? JSON.stringify(exampleOf(schema)) : undefined) ??
      (useDefaults ? defaults.text : undefined) ??
      (toolCalls.length > 0 ? '' : `Mock reply from ${ctx.route} (${ctx.model || 'no model'}).`);
    const finishReason =
      reply.finishReason ?? (useDefaults ? defaults.finishReason : undefined) ?? (toolCalls.length > 0 ? 'tool_calls' : 'stop');
    const usage = { ...defaults.usage, ...reply.usage };
    const reasoning = reply.reasoning ?? (useDefaults ? defaults.reasoning : undefined) ?? '';
    const reasoningTokens = usage.reasoningTokens ?? estimateTextTokens(reasoning);
    const outputTokens =
      usage.outputTokens ??
      Math.max(1, estimateTextTokens(text) + toolCalls.reduce((sum, call) => sum + estimateTextTokens(call.name + call.arguments), 0)) + reasoningTokens;
    const inputTokens = usage.inputTokens ?? ctx.inputTokens;
    const cached = usage.cacheReadTokens === undefined && usage.cacheWriteTokens === undefined ? ctx.promptCache?.() : undefined;
    return {
      text,
      toolCalls,
      finishReason,
      inputTokens,
      outputTokens,
      cacheReadTokens: usage.cacheReadTokens ?? Math.min(cached?.read ?? 0, inputTokens),
      cacheWriteTokens: usage.cacheWriteTokens ?? Math.min(cached?.write ?? 0, inputTokens - Math.min(cached?.read ?? 0, inputTokens)),
      reasoningTokens,
      reasoning,
      chunkDelayMs: reply.chunkDelayMs ?? defaults.chunkDelayMs ?? 0,
      headers: { ...defaults.headers, ...reply.headers },
    };
  }

  async #hugeBody(ex: Exchange, wire: ProviderWire, ctx: WireContext, bytes: number, content: 'garbage' | 'answer', stream: boolean): Promise<void> {
    if (content === 'answer') return this.#answer(ex, wire, ctx, this.#resolveReply(wire, ctx, { text: 'x'.repeat(bytes) }), stream, {});
    const headers = wire.commonHeaders(ctx);
    if (!stream) return sendRaw(ex, 200, headers, `{"id":"${'x'.repeat(bytes)}`);
    return sendRaw(ex, 200, { ...headers, ...SSE_HEADERS }, `data: ${'x'.repeat(bytes)}\n\n`);
  }

  /** A 200 that never ends (see EndlessFault): a text piece every `intervalMs` until the client leaves. */
  async #endless(ex: Exchange, wire: ProviderWire, ctx: WireContext, stream: boolean, intervalMs: number): Promise<void> {
    const reply = this.#resolveReply(wire, ctx, { text: 'tick' });
    const headers = wire.commonHeaders(ctx);
    let opening: string;
    let more: string;
    if (stream) {
      // Provider-neutral: the first event that carries the text is the one repeated.
      const events = wire.streamEvents(ctx, reply);
      const first = events.findIndex((e) => e.data.includes('"tick"'));
      opening = events.slice(0, first + 1).map(formatSseEvent).join('');
      more = formatSseEvent(events[first] as SseEvent);
      writeHead(ex, 200, { ...headers, ...SSE_HEADERS });
    } else {
      // The JSON body up to (and into) the answer's text, which then grows forever.
      const json = JSON.stringify(wire.completion(ctx, reply));
      opening = json.slice(0, json.indexOf('"tick"') + 1);
      more = 'tick ';
      writeHead(ex, 200, { ...headers, 'content-type': 'application/json' });
    }
    void writeFlushed(ex.res, opening);
    while ((await pause(intervalMs, ex)) && !ex.res.destroyed) void writeFlushed(ex.res, more);
  }

  #sendError(ex: Exchange, wire: ProviderWire, ctx: WireContext, error: WireError): void {
    sendJson(ex, error.status, { ...wire.commonHeaders(ctx), ...error.headers }, error.body);
  }

  /** Writes a 200 answer (JSON or SSE) with the requested pacing and mishaps. */
  async #answer(
    ex: Exchange,
    wire: ProviderWire,
    ctx: WireContext,
    reply: ResolvedReply & { chunkDelayMs: number; headers: Record<string, string> },
    stream: boolean,
    plan: {
      firstByteDelayMs?: number;
      malformed?: string | true;
      cutAfter?: number;
      cutMode?: 'destroy' | 'stall';
      errorAfter?: number;
      errorEvent?: SseEvent;
    },
  ): Promise<void> {
    const { res } = ex;
    const headers = { ...wire.commonHeaders(ctx), ...reply.headers };
    ex.settle?.(reply.outputTokens);

    if (!stream) {
      const json = JSON.stringify(wire.completion(ctx, reply));
      if (plan.malformed !== undefined) {
        const broken = typeof plan.malformed === 'string' ? plan.malformed : json.slice(0, Math.floor(json.length / 2));
        return sendJson(ex, 200, headers, broken);
      }
      if (plan.cutAfter !== undefined) {
        writeHead(ex, 200, { ...headers, 'content-type': 'application/json' });
        const written = writeFlushed(res, json.slice(0, Math.floor(json.length / 2)));
        if (plan.cutMode === 'destroy') {
          await written;
          destroyByServer(ex, 'close');
        }
        return; // stall: leave the body unfinished
      }
      if (plan.firstByteDelayMs !== undefined) {
        writeHead(ex, 200, { ...headers, 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(json)) });
        if (!(await pause(plan.firstByteDelayMs, ex))) return;
        res.end(json);
        return;
      }
      return sendJson(ex, 200, headers, json);
    }

    let events = wire.streamEvents(ctx, reply);
    if (plan.malformed !== undefined) {
      // Break the first event after the opening one that the client must parse (Anthropic skips `ping`).
      const victim = events.findIndex((e, i) => i > 0 && e.event !== 'ping');
      const target = events[victim] ?? { data: '{}' };
      const data = typeof plan.malformed === 'string' ? plan.malformed : target.data.slice(0, Math.floor(target.data.length / 2));
      events = [...events.slice(0, Math.max(1, victim)), { ...(target.event !== undefined ? { event: target.event } : {}), data }];
    }
    if (plan.errorAfter !== undefined && plan.errorEvent) events = [...events.slice(0, plan.errorAfter), plan.errorEvent];
    const cutAfter = plan.cutAfter;
    if (cutAfter !== undefined) events = events.slice(0, cutAfter);

    writeHead(ex, 200, { ...headers, ...SSE_HEADERS });
    if (plan.firstByteDelayMs !== undefined && !(await pause(plan.firstByteDelayMs, ex))) return;
    let lastWrite: Promise<void> = Promise.resolve();
    for (let i = 0; i < events.length; i++) {
      if (res.destroyed || ex.signal.aborted) return;
      if (i > 0 && reply.chunkDelayMs > 0 && !(await pause(reply.chunkDelayMs, ex))) return;
      lastWrite = writeFlushed(res, formatSseEvent(events[i] as SseEvent));
    }
    if (cutAfter !== undefined) {
      if (plan.cutMode === 'destroy') {
        // Let the events already written reach the client before the connection drops (a FIN, not a RST,
        // so the kernel does not discard them).
        await lastWrite;
        destroyByServer(ex, 'close');
      }
      return; // stall: the connection stays open, silent, until someone closes it
    }
    res.end();
  }
}

/** The wire with `headers` added to every answer (the route limits' rate-limit headers). */
function withHeaders(wire: ProviderWire, headers: Record<string, string>): ProviderWire {
  return { ...wire, commonHeaders: (ctx) => ({ ...wire.commonHeaders(ctx), ...headers }) };
}

function writeHead(ex: Exchange, status: number, headers: Record<string, string>): void {
  if (ex.record) ex.record.status = status;
  ex.res.writeHead(status, headers);
  ex.res.flushHeaders();
}

function sendJson(ex: Exchange, status: number, headers: Record<string, string>, body: unknown): void {
  if (ex.res.destroyed) return;
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  if (ex.record) ex.record.status = status;
  ex.res.writeHead(status, {
    'content-type': 'application/json',
    ...headers,
    'content-length': String(Buffer.byteLength(text)),
  });
  ex.res.end(text);
}

/** A complete answer with a body sent verbatim (any content type). */
function sendRaw(ex: Exchange, status: number, headers: Record<string, string>, body: string): void {
  if (ex.res.destroyed) return;
  if (ex.record) ex.record.status = status;
  ex.res.writeHead(status, { 'content-type': 'application/json', ...headers, 'content-length': String(Buffer.byteLength(body)) });
  ex.res.end(body);
}

/** What `sseGarbage` sends by default: nothing a provider's SSE stream holds. */
const SSE_GARBAGE = [
  '\u0000\u0001\u00ff\ufffd binary noise',
  'not a field at all',
  'data {"missing":"colon"}',
  'event: surprise',
  'data: {"choices": [',
  '',
  'data: <html><body>502 Bad Gateway</body></html>',
  '',
  ': a comment line',
  'retry: soon',
  'data: [DONE]',
  '',
].join('\n');

/**
 * Slowloris: writes the status line and headers straight to the socket, one byte every `intervalMs`, never
 * ending the header block; stops when the client (or the server's close) ends the connection.
 */
async function trickleHeaders(ex: Exchange, intervalMs: number): Promise<void> {
  const socket = ex.req.socket;
  const head = 'HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nx-slowloris: ';
  for (let i = 0; !socket.destroyed && !ex.signal.aborted; i++) {
    socket.write(i < head.length ? head.charAt(i) : 'z');
    if (!(await pause(intervalMs, ex))) return;
  }
}

/** Ends the connection from the server side: `reset` sends a TCP RST (ECONNRESET), `close` a plain FIN. */
function destroyByServer(ex: Exchange, how: 'reset' | 'close'): void {
  ex.serverClosing = true;
  if (ex.record) ex.record.serverClosed = true;
  const socket = ex.req.socket;
  if (how === 'reset' && typeof socket.resetAndDestroy === 'function') socket.resetAndDestroy();
  else socket.destroy();
}

/** Writes a chunk; resolves once it has been handed to the socket (or failed). */
function writeFlushed(res: ServerResponse, chunk: string): Promise<void> {
  return new Promise((resolve) => {
    res.write(chunk, () => resolve());
  });
}

/** Sleeps `ms` (on `options.sleep` when given, else a real timer); false when the exchange closed meanwhile. */
async function pause(ms: number, ex: Exchange): Promise<boolean> {
  const { signal } = ex;
  if (signal.aborted) return false;
  try {
    await (ex.sleep ? ex.sleep(ms, signal) : sleepTimer(ms, undefined, { signal }));
    return true;
  } catch {
    return false;
  }
}

function readBody(req: IncomingMessage): Promise<string | undefined> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        req.destroy();
        resolve(undefined);
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', () => resolve(undefined));
    req.on('close', () => {
      if (!req.complete) resolve(undefined);
    });
  });
}
