/**
 * Is an OTLP collector listening at the endpoint `--otlp` exports to? The OTel SDK's exporters retry
 * and drop in silence when nothing listens, so the demo checks once, up front, and says so plainly.
 */
import { connect } from 'node:net';

/** `undefined` when something accepts a TCP connection at the endpoint; otherwise the one line to print. */
export async function collectorProblem(endpoint: string, timeoutMs = 2000): Promise<string | undefined> {
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    return `OpenTelemetry: the OTLP endpoint ${endpoint} is not a URL; nothing will be exported.`;
  }
  const port = Number(url.port) || (url.protocol === 'https:' ? 443 : 80);
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const reason = await new Promise<string | undefined>((resolve) => {
    const socket = connect({ host, port });
    const done = (r: string | undefined) => {
      socket.destroy();
      resolve(r);
    };
    socket.setTimeout(timeoutMs, () => done(`no answer within ${timeoutMs} ms`));
    socket.once('connect', () => done(undefined));
    socket.once('error', (error: NodeJS.ErrnoException) => done(error.code ?? error.message));
  });
  return reason === undefined
    ? undefined
    : `OpenTelemetry: no OTLP collector listening at ${endpoint} (${reason}); the demo runs, but its telemetry goes nowhere until one listens there (start the stack: docker compose up -d).`;
}
