/**
 * The floors under the gateway's overhead, in a process of their own as the gateway is (forked by
 * the gateway suite with an IPC channel; `node floorChild.js hop|client <upstream /v1 base URL>`):
 *
 * - `hop`: a minimal node:http pass-through proxy: each request is forwarded as is (method, path,
 *   headers, body streamed) to the upstream on a keep-alive agent, the answer streamed back. The cost
 *   of one more loopback hop and nothing else: no gateway can add less.
 * - `client`: the same hop where the request goes upstream through the official `openai` client, as
 *   the gateway's target does: body read, JSON.parse, `chat.completions.create` (its fetch, headers,
 *   response parsing), JSON.stringify, write. The least a gateway built on the official client adds.
 *
 * Sends `{ url }` once listening; answers the probe messages (bench/childProbe.ts).
 */
import { Agent, createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import OpenAI from 'openai';
import { serveProbe } from './childProbe.js';

const [kind, upstream] = process.argv.slice(2);
if ((kind !== 'hop' && kind !== 'client') || !upstream || !process.send) throw new Error('run by bench/suites/gateway.ts: fork(floorChild, [hop|client, upstreamBaseURL])');
const base = new URL(upstream);
const agent = new Agent({ keepAlive: true });
const client = new OpenAI({ apiKey: 'bench-key', baseURL: upstream, maxRetries: 0 });

function hop(req: IncomingMessage, res: ServerResponse): void {
  // `/v1/chat/completions` → the upstream's `…/v1/chat/completions`.
  const path = `${base.pathname.replace(/\/v1\/?$/, '')}${req.url ?? '/'}`;
  const up = request({ agent, host: base.hostname, port: base.port, method: req.method, path, headers: { ...req.headers, host: base.host } }, (answer) => {
    res.writeHead(answer.statusCode ?? 502, answer.headers);
    answer.pipe(res);
  });
  up.on('error', () => res.destroy());
  req.pipe(up);
}

function viaClient(req: IncomingMessage, res: ServerResponse): void {
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => {
    const params = JSON.parse(Buffer.concat(chunks).toString('utf8')) as OpenAI.ChatCompletionCreateParamsNonStreaming;
    client.chat.completions.create(params).then(
      (completion) => {
        const json = JSON.stringify(completion);
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(json) });
        res.end(json);
      },
      () => {
        res.writeHead(502).end();
      },
    );
  });
}

const server = createServer(kind === 'hop' ? hop : viaClient);
server.listen(0, '127.0.0.1', () => {
  const { port } = server.address() as AddressInfo;
  process.send!({ url: `http://127.0.0.1:${port}` });
});
serveProbe();
process.once('SIGTERM', () => {
  server.closeAllConnections();
  server.close(() => process.exit(0));
});
