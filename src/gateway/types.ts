import type { ResilientLLM } from '../createResilientLLM.js';
import type { ResilientLLMOptions } from '../config/types.js';
import type { SharedStateStore } from '../state/sharedState.js';
import type { Clock } from '../time/clock.js';

/**
 * The gateway's configuration in memory, already resolved: provider keys are in the target
 * clients, gateway keys are SHA-256 hashes, nothing refers to the environment or to a file.
 * The config FILE loader (`loadConfig.ts`, `npx bulwark gateway --config …`) produces this shape;
 * embedders build it directly and pass it to `createGateway(config)`.
 */
export interface GatewayConfig {
  /**
   * The chains, keyed by name: options for `createResilientLLM` (the gateway creates the chain,
   * and closes it on `close()`; `name` defaults to the key) or a chain the embedder made and owns.
   */
  chains: Readonly<Record<string, GatewayChain>>;
  /**
   * Model alias a client asks for (`"model": "support-agent"`) → chain name. A request naming an
   * alias not listed here is refused (404 in the front's error shape); `GET /v1/models` lists them.
   */
  routes: Readonly<Record<string, string>>;
  /** Who may call the gateway. An empty list refuses every request to /v1/*. */
  clients: readonly GatewayClient[];
  /**
   * SHA-256 (hex) of the operator token for `/admin/*` (`Authorization: Bearer <token>`, the
   * token at least 16 characters). Unset: `/admin/*` is not served (404). Never a client key.
   */
  adminTokenHash?: string;
  /** HTTP server options; every field has a default. */
  server?: GatewayServerOptions;
  /**
   * Redis (`redisStore(client)`) shared by every gateway process: given to each chain built from
   * options that has no `sharedState` of its own, used for the per-key limits, and checked by
   * `GET /readyz`. Unset: all state stays in this process.
   */
  sharedState?: SharedStateStore;
  /**
   * Where the access log goes: one call per finished request. Default: one JSON line on stdout.
   * `false`: no access log.
   */
  accessLog?: AccessLogger | false;
  /** Injected time (rate and spend windows, durations), for tests. */
  clock?: Clock;
}

/** A chain as the gateway takes it: options to build it from, or a chain already built. */
export type GatewayChain = ResilientLLMOptions | Omit<ResilientLLMOptions, 'name'> | ResilientLLM;

/** One gateway API key and who holds it. */
export interface GatewayClient {
  /** Appears in the access log and in limit errors; never the key. Unique. */
  name: string;
  /**
   * SHA-256 of the API key, 64 hex characters (`printf %s "$KEY" | sha256sum`). Clients send the
   * key as `Authorization: Bearer <key>` (OpenAI clients) or `x-api-key: <key>` (Anthropic).
   */
  keyHash: string;
  /**
   * The cache partition (tenant) of this client's requests: one partition never receives another's
   * cached answer. Default: the client's name. Clients that may share answers name the same one.
   */
  cachePartition?: string;
  limits?: GatewayClientLimits;
}

/**
 * Per-key limits; over one → 429 in the front's error shape, no upstream call: over `rpm` the client
 * is told to retry after `retry-after`, over `spendUsdPerDay` not to retry.
 */
export interface GatewayClientLimits {
  /** Requests per minute (sliding window). */
  rpm?: number;
  /**
   * Spend in USD over the last 24 hours (the `costUsd` of the requests). Each request's estimate is
   * held before the call and replaced by its cost after, so concurrent requests stay within it.
   */
  spendUsdPerDay?: number;
}

export interface GatewayServerOptions {
  /** Default '127.0.0.1'. */
  host?: string;
  /** Default 8787; 0 picks a free port. */
  port?: number;
  /** Largest request body; over it → 413. Default 20 MB (20 * 1024 * 1024). */
  bodyLimitBytes?: number;
  /** Time to receive the request headers (node:http `headersTimeout`). Default 60 s. */
  headersTimeoutMs?: number;
  /** Idle keep-alive connection lifetime between requests. Default 5 s. */
  keepAliveTimeoutMs?: number;
  /**
   * Time to receive the whole request (node:http `requestTimeout`); not the answer, which a
   * chain's own `timeouts.totalMs` bounds. Default 300 s.
   */
  requestTimeoutMs?: number;
  /** `close()` waits this long for in-flight requests and streams, then cuts them. Default 30 s. */
  drainTimeoutMs?: number;
}

/** The routes the gateway serves, as they appear in the access log and in `http.route`. */
export const GATEWAY_ROUTES = ['/v1/chat/completions', '/v1/messages', '/v1/models', '/healthz', '/readyz', '/admin/*'] as const;
export type GatewayRoute = (typeof GATEWAY_ROUTES)[number];

/** One access-log line: what happened, never what was said (no content, no keys). */
export interface AccessLogEntry {
  /** ISO time the request finished. */
  time: string;
  method: string;
  /** A served route, or 'unmatched'. */
  route: GatewayRoute | 'unmatched';
  status: number;
  durationMs: number;
  /** The client's name, once its key was accepted. */
  client?: string;
  /** The model alias the request asked for, and the chain it routed to. */
  model?: string;
  chain?: string;
  /** Bulwark's facts of the answer, when a chain answered. */
  tier?: string;
  attempts?: number;
  costUsd?: number;
  /** `error.type` of a failed request (Bulwark's, or the gateway's: unauthorized, rate_limited, …). */
  errorType?: string;
  /** True when the client went away before the answer ended. */
  clientClosed?: boolean;
}

export type AccessLogger = (entry: AccessLogEntry) => void;

/** A running (or ready to run) gateway. */
export interface Gateway {
  /** Starts listening (defaults from `config.server`); resolves with the bound address. */
  listen(port?: number, host?: string): Promise<GatewayAddress>;
  /**
   * Stops accepting connections, lets in-flight requests and streams finish for up to `drainMs`
   * (default `server.drainTimeoutMs`), then cuts what is left; closes the chains it built.
   */
  close(options?: { drainMs?: number }): Promise<void>;
  /** The underlying node:http server. */
  readonly server: import('node:http').Server;
}

export interface GatewayAddress {
  host: string;
  port: number;
  /** `http://host:port` */
  url: string;
}
