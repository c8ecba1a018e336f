import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { resolveGatewayConfig } from './gatewayConfig.js';
import type { Gateway, GatewayAddress, GatewayConfig } from './types.js';

/**
 * The Bulwark gateway: an OpenAI- and Anthropic-compatible HTTP server over chains, for agents in
 * any language (point the official client's `baseURL` at it).
 *
 * - `POST /v1/chat/completions` (OpenAI wire, JSON and SSE) and `POST /v1/messages` (Anthropic wire):
 *   the request's `model` is a route alias (`config.routes`) that picks the chain.
 * - `GET /v1/models` (the aliases), `GET /healthz` (process up), `GET /readyz` (config loaded, the
 *   shared store reachable when configured), `/admin/*` the operator handler behind the admin token.
 * - Gateway API keys (`Authorization: Bearer` or `x-api-key`) are checked against `clients[].keyHash`
 *   (SHA-256, constant time); each client's answers are cached in its own partition.
 *
 * The config is checked at once (a ConfigError names the bad field) and the chains given as options
 * are built; nothing listens until `listen()`.
 *
 * Work in progress (issue 14): this version serves `/healthz` and `/v1/models` only.
 */
export function createGateway(config: GatewayConfig): Gateway {
  const gw = resolveGatewayConfig(config);
  const server = createServer({
    headersTimeout: gw.server.headersTimeoutMs,
    requestTimeout: gw.server.requestTimeoutMs,
    keepAliveTimeout: gw.server.keepAliveTimeoutMs,
  });
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method === 'GET' && path === '/healthz') return sendJson(res, 200, { status: 'ok' });
    if (req.method === 'GET' && path === '/v1/models') {
      return sendJson(res, 200, { object: 'list', data: [...gw.routes.keys()].map((id) => ({ id, object: 'model', created: 0, owned_by: 'bulwark' })) });
    }
    sendJson(res, 404, { error: { message: `${req.method} ${path} is not served`, type: 'invalid_request_error' } });
  });

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
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
      await Promise.all([...gw.chains.values()].filter((c) => c.owned).map((c) => c.llm.close()));
    },
  };
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const json = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(json) });
  res.end(json);
}
