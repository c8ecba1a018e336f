import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { ResolvedClient } from './gatewayConfig.js';

/**
 * The key a client sent: `Authorization: Bearer <key>` (the OpenAI clients) or `x-api-key: <key>`
 * (the Anthropic clients). Undefined when neither holds one.
 */
export function presentedKey(headers: IncomingHttpHeaders): string | undefined {
  const apiKey = headers['x-api-key'];
  if (typeof apiKey === 'string' && apiKey.trim() !== '') return apiKey.trim();
  const authorization = headers.authorization;
  const match = typeof authorization === 'string' ? /^Bearer\s+(\S+)\s*$/i.exec(authorization) : null;
  return match?.[1];
}

export function sha256(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}

/**
 * The client whose key hash is the SHA-256 of `key`, or undefined. Every client's hash is
 * compared, in constant time, whichever matches: how long it takes says nothing about the key.
 */
export function clientOfKey(clients: readonly ResolvedClient[], key: string | undefined): ResolvedClient | undefined {
  if (key === undefined) return undefined;
  const digest = sha256(key);
  let found: ResolvedClient | undefined;
  for (const client of clients) {
    if (timingSafeEqual(digest, client.keyHash) && found === undefined) found = client;
  }
  return found;
}

/** Whether `token` is the one whose SHA-256 is `hash` (constant time). */
export function tokenMatches(hash: Buffer, token: string | undefined): boolean {
  return token !== undefined && timingSafeEqual(sha256(token), hash);
}
