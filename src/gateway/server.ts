import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { ResilientLLM } from '../createResilientLLM.js';
import { BulwarkError } from '../errors/bulwarkError.js';
import { FRONTS, type FrontFailure, type WireFront } from '../fronts/index.js';
import { answerFront, errorAnswer, type FrontAnswer } from '../fronts/handleFront.js';
import { createOperatorHandler } from '../operator/index.js';
import type { ChatResult } from '../request/types.js';
import { clientOfKey, presentedKey, tokenMatches } from './clientAuth.js';
import { ClientLimits, limitFailure, requestSpendEstimateUsd, type Admission, type SpendReservation } from './clientLimits.js';
import { SharedClientLimits } from './sharedClientLimits.js';
import { resolveGatewayConfig, type ResolvedClient } from './gatewayConfig.js';
import { createServerTelemetry } from './serverTelemetry.js';
import type { AccessLogEntry, Gateway, GatewayAddress, GatewayConfig, GatewayRoute } from './types.js';

/** The routes and what serves them. */
const ROUTES: Record<string, { route: GatewayRoute; method: string; front?: WireFront }> = {
  '/v1/chat/completions': { route: '/v1/chat/completions', method: 'POST', front: FRONTS.openai },
  '/v1/messages': { route: '/v1/messages', method: 'POST', front: FRONTS.anthropic },
  '/v1/models': { route: '/v1/models', method: 'GET' },
  '/healthz': { route: '/healthz', method: 'GET' },
  '/readyz': { route: '/readyz', method: 'GET' },
};
const ADMIN_PREFIX = '/admin';

/** What one exchange learnt, for the access log; filled in as the request goes. */
interface Exchange {
  readonly abort: AbortController;
  readonly socket: Socket;
  entry: Omit<AccessLogEntry, 'time' | 'status' | 'durationMs' | 'method' | 'route'>;
  /** Settles when the chain call (if any) settled: the log waits for its facts. */
  settled: Promise<unknown>;
  /** The request's spend estimate held against its client's daily limit, until its cost is known. */
  reservation?: SpendReservation | undefined;
  /** The chain was called (its outcome settles the reservation). */
  called?: boolean;
}

/**
 * The Bulwark gateway: an OpenAI- and Anthropic-compatible HTTP server over chains, for agents in
 * any language (point the official client's `baseURL` at it).
 *
 * - `POST /v1/chat/completions` (OpenAI wire, JSON and SSE) and `POST /v1/messages` (Anthropic wire):
 *   the request's `model` is a route alias (`config.routes`) that picks the chain.
 * - `GET /v1/models` (the aliases, OpenAI list shape), `GET /healthz` (process up), `GET /readyz`
 *   (config loaded, not draining, the shared store reachable when configured), `/admin/*` the
 *   operator handler (`/admin/health`, `/admin/breaker`, `/admin/tier`) behind the admin token.
 * - Gateway API keys (`Authorization: Bearer` or `x-api-key`) are checked against `clients[].keyHash`
 *   (SHA-256, constant time); each client's answers are cached in its own partition; per-key limits.
 * - Body limit (413), header/request/keep-alive timeouts, graceful `close()` (drain), a client that
 *   goes away closes the upstream call at once, one access-log entry per request (no content, no
 *   keys), `http.server.request.duration` and a SERVER span continuing the caller's `traceparent`.
 *
 * The config is checked at once (a ConfigError names the bad field) and the chains given as options
 * are built; nothing listens until `listen()`.
 */
export function createGateway(config: GatewayConfig): Gateway {
  const gw = resolveGatewayConfig(config);
  const clients = [...gw.clients.values()];
  // Per-key limits: in this process, or shared by every gateway process on the store.
  const limits: { admit(client: ResolvedClient, now: number, estimateUsd: number): Admission | Promise<Admission> } = gw.sharedState ? new SharedClientLimits(gw.sharedState) : new ClientLimits();
  const telemetry = createServerTelemetry();
  const models = { object: 'list', data: [...gw.routes.keys()].map((id) => ({ id, object: 'model', created: 0, owned_by: 'bulwark' })) };
  // The operator handler checks its own bearer token: the gateway checks the admin token (a hash),
  // then hands the request on with this process-local secret in its place.
  const operatorToken = randomBytes(32).toString('hex');
  const operator = createOperatorHandler({ llms: [...gw.chains.values()].map((c) => c.llm), token: operatorToken, basePath: ADMIN_PREFIX, protectHealth: true });

  const inFlight = new Set<Exchange>();
  let draining = false;
  let closing: Promise<void> | undefined;

  const server = createServer({
    headersTimeout: gw.server.headersTimeoutMs,
    requestTimeout: gw.server.requestTimeoutMs,
    keepAliveTimeout: gw.server.keepAliveTimeoutMs,
    // Node checks the header and request timeouts on this interval (default 30 s, which would let a 60 s
    // header timeout run to 90 s): a quarter of the shorter one, at most a second.
    connectionsCheckingInterval: Math.max(10, Math.min(1_000, Math.floor(Math.min(gw.server.headersTimeoutMs, gw.server.requestTimeoutMs) / 4))),
  });
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const started = gw.clock.now();
    const path = pathOf(req.url);
    const served = ROUTES[path];
    const route: GatewayRoute | undefined = served?.route ?? (path === ADMIN_PREFIX || path.startsWith(`${ADMIN_PREFIX}/`) ? '/admin/*' : undefined);
    const span = telemetry.start(req, route, 'http');
    const ex: Exchange = { abort: new AbortController(), socket: req.socket, entry: {}, settled: Promise.resolve() };
    inFlight.add(ex);
    if (draining) res.setHeader('connection', 'close');
    req.on('error', () => undefined);
    res.on('error', () => undefined);
    res.once('close', () => {
      const clientClosed = !res.writableFinished;
      if (clientClosed) {
        ex.entry.clientClosed = true;
        // The client went away: the chain call stops, and with it the upstream connection.
        ex.abort.abort(new BulwarkError('cancelled', 'The client closed the connection'));
      }
      inFlight.delete(ex);
      if (draining) {
        // Finished while draining: no next request on this connection.
        ex.socket.end();
        server.closeIdleConnections();
      }
      const status = clientClosed && !res.headersSent ? 499 : res.statusCode;
      void ex.settled.then(() => {
        const durationMs = gw.clock.now() - started;
        span.end(status, durationMs / 1000);
        gw.accessLog?.({ time: new Date().toISOString(), method: req.method ?? 'GET', route: route ?? 'unmatched', status, durationMs, ...ex.entry });
      });
    });

    telemetry
      .run(span, async () => {
        if (route === '/admin/*') return admin(req, res);
        if (!served) return sendError(res, FRONTS.openai, { status: 404, kind: 'not_found', message: `${req.method} ${path} is not served by the Bulwark gateway` });
        const front = served.front ?? FRONTS.openai;
        if (req.method !== served.method && !(served.method === 'GET' && req.method === 'HEAD')) {
          res.setHeader('allow', served.method);
          return sendError(res, front, { status: 405, kind: 'invalid_request', message: `${path} takes ${served.method}, not ${req.method}` });
        }
        if (path === '/healthz') return sendJson(res, 200, { status: 'ok' });
        if (path === '/readyz') return ready(res);
        const client = clientOfKey(clients, presentedKey(req.headers));
        if (!client) {
          ex.entry.errorType = 'unauthorized';
          res.setHeader('www-authenticate', 'Bearer realm="bulwark"');
          return refuse(req, res, front, { status: 401, kind: 'authentication', code: 'invalid_api_key', message: 'Invalid or missing API key: send Authorization: Bearer <key> or x-api-key: <key>' });
        }
        ex.entry.client = client.name;
        if (path === '/v1/models') return sendJson(res, 200, models);
        return answer(req, res, front, client, ex);
      })
      .catch(() => {
        if (res.headersSent) return res.destroy();
        sendError(res, FRONTS.openai, { status: 500, kind: 'internal', message: 'Internal error in the Bulwark gateway' }).catch(() => res.destroy());
      });
  });

  async function answer(req: IncomingMessage, res: ServerResponse, front: WireFront, client: ResolvedClient, ex: Exchange): Promise<void> {
    const body = await readBody(req, gw.server.bodyLimitBytes);
    if (body === 'too_large') {
      ex.entry.errorType = 'body_too_large';
      return refuse(req, res, front, { status: 413, kind: 'too_large', message: `The request body is over the gateway's limit of ${gw.server.bodyLimitBytes} bytes` });
    }
    if (body === 'aborted') return;
    let parsed: unknown;
    try {
      parsed = JSON.parse(body.toString('utf8'));
    } catch {
      ex.entry.errorType = 'bad_request';
      return sendError(res, front, { status: 400, kind: 'invalid_request', message: 'The request body is not valid JSON' });
    }
    const alias = (parsed as { model?: unknown } | null)?.model;
    if (typeof alias !== 'string') {
      ex.entry.errorType = 'bad_request';
      return sendError(res, front, { status: 400, kind: 'invalid_request', param: 'model', message: `model: must name one of the gateway's models (${[...gw.routes.keys()].join(', ')})` });
    }
    const llm = gw.routes.get(alias);
    // A known alias is logged as is; an unknown one is whatever the client sent: bounded.
    ex.entry.model = llm ? alias : alias.slice(0, 100);
    if (!llm) {
      ex.entry.errorType = 'unknown_model';
      return sendError(res, front, { status: 404, kind: 'not_found', param: 'model', code: 'model_not_found', message: `The model '${alias}' does not exist on this gateway (known: ${[...gw.routes.keys()].join(', ')})` });
    }
    ex.entry.chain = llm.name;
    // Per-key limits, once the request is known: a spend limit holds the request's estimate.
    const estimateUsd = client.limits.spendUsdPerDay === undefined ? 0 : requestSpendEstimateUsd(front, parsed, gw.spendPrices.get(llm.name));
    const admission = await limits.admit(client, gw.clock.now(), estimateUsd);
    if (admission.refused) {
      ex.entry.errorType = admission.refused.limit === 'rpm' ? 'rate_limited' : 'spend_limited';
      return sendError(res, front, limitFailure(admission.refused));
    }
    ex.reservation = admission.reservation;
    try {
      const answer = await answerFront(
        front,
        { method: 'POST', url: req.url ?? '/', signal: ex.abort.signal, json: () => Promise.resolve(parsed) },
        forClient(llm, client, ex),
      );
      await writeAnswer(res, answer);
    } finally {
      // The chain was never called (the front refused the request): nothing was spent.
      if (ex.reservation && !ex.called) await ex.reservation.settle(0, gw.clock.now());
    }
  }

  /** The chain as this client sees it: its cache partition, and its answers' facts noted for the log and its spend. */
  function forClient(llm: ResilientLLM, client: ResolvedClient, ex: Exchange): ResilientLLM {
    const note = (outcome: Promise<ChatResult>) => {
      ex.called = true;
      ex.settled = outcome.then(
        (result) => {
          ex.entry.tier = result.tier;
          ex.entry.attempts = result.attempts.length;
          ex.entry.costUsd = result.costUsd;
          // The log line waits for the spend to be counted (in the shared store, with sharedState).
          return ex.reservation?.settle(result.costUsd, gw.clock.now());
        },
        (error: unknown) => {
          let costUsd = 0;
          if (BulwarkError.isInstance(error)) {
            ex.entry.errorType = error.errorType;
            ex.entry.attempts = error.attempts.length;
            // A failed request still pays for what its attempts used (a stream cut mid-way, a hedge that lost).
            for (const a of error.attempts) costUsd += a.costUsd ?? 0;
          } else ex.entry.errorType ??= 'internal';
          return ex.reservation?.settle(costUsd, gw.clock.now());
        },
      );
    };
    return {
      name: llm.name,
      chat(request) {
        request.partition = client.cachePartition;
        const result = llm.chat(request);
        note(result);
        return result;
      },
      stream(request) {
        request.partition = client.cachePartition;
        const stream = llm.stream(request);
        note(stream.result);
        return stream;
      },
      health: () => llm.health(),
      forceBreaker: (breaker, override) => llm.forceBreaker(breaker, override),
      forceTier: (tier) => llm.forceTier(tier),
      close: () => llm.close(),
    };
  }

  function admin(req: IncomingMessage, res: ServerResponse): void {
    if (!gw.adminTokenHash) return sendJson(res, 404, { error: 'not found: /admin is served only with adminTokenHash configured' });
    const header = req.headers.authorization;
    const token = typeof header === 'string' ? /^Bearer\s+(\S+)\s*$/i.exec(header)?.[1] : undefined;
    if (!tokenMatches(gw.adminTokenHash, token)) {
      res.setHeader('www-authenticate', 'Bearer realm="bulwark-admin"');
      res.setHeader('connection', 'close');
      req.resume();
      return sendJson(res, 401, { error: 'unauthorized: send Authorization: Bearer <admin token>' });
    }
    req.headers.authorization = `Bearer ${operatorToken}`;
    operator(req, res);
  }

  function ready(res: ServerResponse): void {
    if (draining) return sendJson(res, 503, { status: 'draining' });
    const store = gw.sharedState;
    if (store && !store.available()) return sendJson(res, 503, { status: 'unready', sharedState: store.status() });
    sendJson(res, 200, { status: 'ready', chains: [...gw.chains.keys()], ...(store && { sharedState: store.status() }) });
  }

  return {
    server,
    listen(port = gw.server.port, host = gw.server.host) {
      return new Promise<GatewayAddress>((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          server.off('error', reject);
          const address = server.address() as AddressInfo;
          const shown = address.family === 'IPv6' ? `[${address.address}]` : address.address;
          resolve({ host: address.address, port: address.port, url: `http://${shown}:${address.port}` });
        });
      });
    },
    close(options = {}) {
      closing ??= (async () => {
        const drainMs = options.drainMs ?? gw.server.drainTimeoutMs;
        draining = true;
        const stopped = server.listening ? new Promise<void>((resolve) => server.close(() => resolve())) : Promise.resolve();
        server.closeIdleConnections();
        // In-flight requests and streams finish (each closing its connection after); out of time,
        // what is left is cut, and its chain calls (and their upstream connections) stop.
        await new Promise<void>((resolve) => {
          const cancel = gw.clock.setTimer(() => {
            for (const ex of inFlight) ex.abort.abort(new BulwarkError('cancelled', 'The gateway is shutting down'));
            server.closeAllConnections();
            resolve();
          }, drainMs);
          void stopped.then(() => {
            cancel();
            resolve();
          });
        });
        await stopped;
        await Promise.all([...gw.chains.values()].filter((c) => c.owned).map((c) => c.llm.close()));
      })();
      return closing;
    },
  };
}

/**
 * Writes a front's answer: a JSON body in one write with its headers (no WHATWG Response on the
 * way), or SSE frames as they come; a client that goes away cancels the frames (and the chain's
 * upstream).
 */
async function writeAnswer(res: ServerResponse, answer: FrontAnswer): Promise<void> {
  if (answer.frames === undefined) {
    answer.headers['content-length'] = String(Buffer.byteLength(answer.body));
    res.writeHead(answer.status, answer.headers);
    res.end(answer.body);
    return;
  }
  res.writeHead(answer.status, answer.headers);
  res.flushHeaders();
  const onClose = () => {
    if (!res.writableFinished) answer.cancel().catch(() => undefined);
  };
  res.once('close', onClose);
  try {
    for (;;) {
      const { done, value } = await answer.frames.next();
      if (done) break;
      if (res.destroyed) return;
      if (!res.write(value)) await new Promise<void>((resolve) => {
        res.once('drain', resolve);
        res.once('close', resolve);
      });
    }
    res.end();
  } catch {
    // The stream failed after the headers left (the client went away, or the chain was cut): end the connection.
    res.destroy();
  } finally {
    res.off('close', onClose);
  }
}

/**
 * The body up to `limit` bytes. Past it, reading goes on (into nothing) so the client, still
 * sending, gets the 413 instead of a reset connection.
 */
function readBody(req: IncomingMessage, limit: number): Promise<Buffer | 'too_large' | 'aborted'> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) return Promise.resolve('too_large');
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      if (size > limit) return;
      size += chunk.length;
      if (size > limit) {
        chunks.length = 0;
        resolve('too_large');
      } else chunks.push(chunk);
    });
    req.once('end', () => resolve(Buffer.concat(chunks, size)));
    req.once('close', () => resolve('aborted'));
  });
}

/** A refusal before the body was read: answer, and close the connection rather than read what the client sends. */
function refuse(req: IncomingMessage, res: ServerResponse, front: WireFront, failure: FrontFailure): Promise<void> {
  res.setHeader('connection', 'close');
  req.resume();
  return sendError(res, front, failure);
}

async function sendError(res: ServerResponse, front: WireFront, failure: FrontFailure): Promise<void> {
  await writeAnswer(res, errorAnswer(front, failure));
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const json = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store', 'content-length': Buffer.byteLength(json) });
  res.end(json);
}

function pathOf(url: string | undefined): string {
  const raw = url ?? '/';
  const end = raw.search(/[?#]/);
  return end < 0 ? raw : raw.slice(0, end);
}
