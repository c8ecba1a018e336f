import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { BREAKER_OVERRIDES, type BreakerOverride } from '../events/breakerTransition.js';
import type { OverrideResult, ResilientLLM } from '../createResilientLLM.js';
import { FORCED_TIERS, type ForcedTier } from '../request/tiers.js';
import { ConfigError } from '../errors/bulwarkError.js';

/** What the handler needs of a chain (a ResilientLLM). */
export type OperatedChain = Pick<ResilientLLM, 'name' | 'health' | 'forceBreaker' | 'forceTier'>;

export interface OperatorHandlerOptions {
  /** The chains to expose: one client or several (addressed by their `name`). */
  llms: OperatedChain | readonly OperatedChain[];
  /**
   * The bearer token the POST endpoints require (`Authorization: Bearer <token>`), at least 16
   * characters. A function is called per request, so a rotated secret takes effect at once.
   */
  token: string | (() => string);
  /** Path prefix of the routes. Default '/bulwark'. */
  basePath?: string;
  /** Require the token for GET health as well. Default false (health is read-only). */
  protectHealth?: boolean;
}

/** `(req, res, next?)`: answers its routes; anything else goes to `next`, or gets a 404. */
export type OperatorHandler = (req: IncomingMessage, res: ServerResponse, next?: () => void) => void;

const MAX_BODY_BYTES = 4096;
const MIN_TOKEN_LENGTH = 16;
const OVERRIDES: readonly BreakerOverride[] = BREAKER_OVERRIDES;
const TIERS: readonly ForcedTier[] = FORCED_TIERS;

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}

/**
 * An HTTP handler for Node's `http` (and anything with the same `(req, res, next)` shape, such
 * as Express) for the people on call:
 *
 * - `GET  {basePath}/health` → `{ chains: [llm.health(), …] }`: every target's breaker state,
 *   override, failures, failure rate, last error, latency, retry budget; the forced tier; the
 *   shared store's reachability.
 * - `POST {basePath}/breaker` `{ "chain"?, "breaker": "openai/gpt-4o" | 0, "override": "open" | "closed" | "auto" }`
 * - `POST {basePath}/tier` `{ "chain"?, "tier": "cached" | "static" | "reduced" | "auto" }`
 *
 * POSTs need `Authorization: Bearer <token>`; without a valid one the answer is 401 and
 * nothing changes (the body is not even read). The token is compared in constant time.
 * `chain` may be left out when the handler serves a single chain. With `sharedState` an
 * override applies to every process of the chain; the reply's `shared` says whether the
 * store took it (false: this process only, written to the store when it answers again).
 *
 * Mount it on an internal port or behind your own authentication: health shows provider error
 * messages and the overrides can stop all upstream traffic.
 */
export function createOperatorHandler(options: OperatorHandlerOptions): OperatorHandler {
  if (typeof options !== 'object' || options === null) throw new ConfigError('operatorHandler options', 'must be an object');
  const chains = (Array.isArray(options.llms) ? options.llms : [options.llms]) as readonly OperatedChain[];
  if (chains.length === 0) throw new ConfigError('operatorHandler.llms', 'must name at least one chain');
  for (const [i, llm] of chains.entries()) {
    if (!llm || typeof llm.health !== 'function' || typeof llm.forceBreaker !== 'function' || typeof llm.forceTier !== 'function') {
      throw new ConfigError(`operatorHandler.llms[${i}]`, 'must be a client made by createResilientLLM()');
    }
  }
  const byName = new Map(chains.map((llm) => [llm.name, llm]));
  if (byName.size !== chains.length) throw new ConfigError('operatorHandler.llms', 'has two chains with the same name');
  const tokenOf = typeof options.token === 'function' ? options.token : () => options.token as string;
  if (typeof options.token === 'string' && options.token.length < MIN_TOKEN_LENGTH) {
    throw new ConfigError('operatorHandler.token', `must be at least ${MIN_TOKEN_LENGTH} characters`);
  }
  if (typeof options.token !== 'string' && typeof options.token !== 'function') throw new ConfigError('operatorHandler.token', 'must be a string or a function returning one');
  const base = (options.basePath ?? '/bulwark').replace(/\/+$/, '');
  if (base !== '' && !base.startsWith('/')) throw new ConfigError('operatorHandler.basePath', "must start with '/'");

  const authorized = (req: IncomingMessage): boolean => {
    let expected: string;
    try {
      expected = tokenOf();
    } catch {
      return false;
    }
    if (typeof expected !== 'string' || expected.length < MIN_TOKEN_LENGTH) return false;
    const header = req.headers.authorization;
    const match = typeof header === 'string' ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
    if (!match?.[1]) return false;
    // Equal-length digests, so the comparison takes the same time whatever was sent.
    return timingSafeEqual(digest(match[1]), digest(expected));
  };

  const chainFor = (name: unknown): OperatedChain => {
    if (name === undefined) {
      if (chains.length === 1) return chains[0]!;
      throw new HttpError(400, `"chain" is required (known: ${[...byName.keys()].join(', ')})`);
    }
    const llm = typeof name === 'string' ? byName.get(name) : undefined;
    if (!llm) throw new HttpError(404, `no chain named ${JSON.stringify(name)} (known: ${[...byName.keys()].join(', ')})`);
    return llm;
  };

  const apply = async (llm: OperatedChain, change: () => Promise<OverrideResult>): Promise<OverrideResult> => {
    try {
      return await change();
    } catch (error) {
      if (error instanceof ConfigError) throw new HttpError(error.field === 'breaker' ? 404 : 400, error.message);
      throw error;
    }
  };

  async function route(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    if (path === '/health') {
      if (req.method !== 'GET' && req.method !== 'HEAD') throw new HttpError(405, 'use GET', { Allow: 'GET, HEAD' });
      if (options.protectHealth && !authorized(req)) return unauthorized(res);
      return send(res, 200, { chains: chains.map((llm) => llm.health()) });
    }
    if (path !== '/breaker' && path !== '/tier') throw new HttpError(404, 'not found');
    if (req.method !== 'POST') throw new HttpError(405, 'use POST', { Allow: 'POST' });
    if (!authorized(req)) return unauthorized(res);
    const body = await readJson(req);
    const llm = chainFor(body.chain);
    if (path === '/breaker') {
      const { breaker, override } = body;
      if (typeof breaker !== 'string' && !(typeof breaker === 'number' && Number.isInteger(breaker))) {
        throw new HttpError(400, '"breaker" must be a breaker key such as "openai/gpt-4o" or a target index');
      }
      if (!OVERRIDES.includes(override as BreakerOverride)) throw new HttpError(400, `"override" must be one of ${OVERRIDES.join(', ')}`);
      const result = await apply(llm, () => llm.forceBreaker(breaker, override as BreakerOverride));
      return send(res, 200, { ok: true, chain: llm.name, breaker, override, ...describeResult(result) });
    }
    const { tier } = body;
    if (!TIERS.includes(tier as ForcedTier)) throw new HttpError(400, `"tier" must be one of ${TIERS.join(', ')}`);
    const result = await apply(llm, () => llm.forceTier(tier as ForcedTier));
    return send(res, 200, { ok: true, chain: llm.name, tier, ...describeResult(result) });
  }

  return (req, res, next) => {
    // Node's parser lets through request targets that are not URLs ('//['); `new URL` throws on
    // them, and an exception thrown here would be uncaught in the server's 'request' listener.
    let path: string;
    try {
      path = new URL(req.url ?? '/', 'http://operator.invalid').pathname;
    } catch {
      if (next) return next();
      req.resume();
      return send(res, 400, { error: 'bad request target' });
    }
    if (path !== base && !path.startsWith(`${base}/`)) {
      if (next) return next();
      return send(res, 404, { error: 'not found' });
    }
    route(req, res, path.slice(base.length)).catch((error: unknown) => {
      if (error instanceof HttpError) return send(res, error.status, { error: error.message }, error.headers);
      send(res, 500, { error: 'internal error' });
    });
  };
}

function describeResult(result: OverrideResult) {
  return result.shared
    ? { shared: true }
    : { shared: false, note: 'applied in this process; not (yet) in the shared store: without sharedState, or the store is unreachable (written when it answers again)' };
}

function unauthorized(res: ServerResponse): void {
  // Never read an unauthenticated body: answer, then close the connection instead of draining it.
  res.setHeader('Connection', 'close');
  res.setHeader('WWW-Authenticate', 'Bearer realm="bulwark"');
  send(res, 401, { error: 'unauthorized: send Authorization: Bearer <token>' });
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (res.headersSent) return;
  const json = JSON.stringify(body);
  res.writeHead(status, {
    ...headers,
    'Content-Type': 'application/json; charset=utf-8',
    'Cache-Control': 'no-store',
    'Content-Length': Buffer.byteLength(json),
  });
  res.end(json);
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  const type = req.headers['content-type'] ?? '';
  if (!/^application\/json\b/i.test(type)) {
    req.resume();
    throw new HttpError(415, 'send Content-Type: application/json');
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buf = chunk as Buffer;
    size += buf.length;
    if (size > MAX_BODY_BYTES) throw new HttpError(413, `body over ${MAX_BODY_BYTES} bytes`);
    chunks.push(buf);
  }
  let value: unknown;
  try {
    value = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new HttpError(400, 'body is not JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new HttpError(400, 'body must be a JSON object');
  return value as Record<string, unknown>;
}
