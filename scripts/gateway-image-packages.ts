/**
 * The packages the gateway image installs next to Bulwark's tarball: the provider clients the config
 * file's targets use, the Redis client for `sharedState`, and the OpenTelemetry SDK packages
 * `startTelemetry` loads — each at the exact version this repository tests against (its
 * devDependencies pin them). The Dockerfile runs this script; test/package/installable.test.ts
 * installs the same list, so what the image runs is what the tests ran.
 *
 *   npx tsx scripts/gateway-image-packages.ts   → one `name@version` per line
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { TELEMETRY_PEER_DEPENDENCIES } from '../src/otel/loadPeer.js';

export const GATEWAY_PEERS = ['openai', '@anthropic-ai/sdk', 'redis', ...TELEMETRY_PEER_DEPENDENCIES] as const;

export function gatewayImagePackages(): string[] {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { devDependencies: Record<string, string> };
  return GATEWAY_PEERS.map((name) => {
    const version = pkg.devDependencies[name];
    if (!version || !/^\d+\.\d+\.\d+$/.test(version)) throw new Error(`package.json devDependencies must pin ${name} exactly, got ${version}`);
    return `${name}@${version}`;
  });
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) console.log(gatewayImagePackages().join('\n'));
