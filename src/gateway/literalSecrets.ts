/**
 * Secrets never live in the gateway's config file: a walk over the whole file (before any other
 * check, so a secret under a misspelt key is still called a secret) that refuses
 *
 * - a field whose NAME says secret (`apiKey`, `api-key`, `token`, `password`, `secret`,
 *   `authorization`, `cookie`, `credentials`, `privateKey`, `key`, …) holding a literal string —
 *   a hash (`keyHash`, `adminTokenHash`) is not a secret, and `env:NAME` is how a secret is given;
 * - a URL anywhere with a password in it (`redis://:pw@host`, `https://user:pw@host`) or a
 *   secret-named query parameter (`?api-key=…`, `?key=…`, `?token=…`);
 * - a VALUE anywhere that has the look of a credential (`sk-…` keys, `Bearer …` / `Basic …`).
 *
 * Where the secret goes instead depends on the field: the gateway's own keys and admin token are
 * SHA-256 hashes in the file (`keyHash`, `adminTokenHash`); a provider key, a header, a base URL
 * or the Redis URL is an `env:NAME` reference. The error names the field and never quotes the value.
 */
import { fail } from '../validation/walk.js';

/** Fields where the loader resolves `env:NAME` (the only places a secret can be given). */
export const ENV_FIELDS = "a target's apiKey, baseURL and headers, and sharedState.redisUrl";

const ENV_REF = /^env:[A-Za-z_][A-Za-z0-9_]*$/;
const SECRET_WORDS = new Set(['password', 'passwd', 'passphrase', 'secret', 'token', 'authorization', 'auth', 'cookie', 'credential', 'credentials', 'apikey', 'bearer']);
/** Two-word names that mean a key: `api key`, `private key`, `access key`, `secret key`. */
const KEY_QUALIFIERS = new Set(['api', 'private', 'access', 'secret', 'subscription']);
/** Shapes of real credentials, whatever field holds them. */
const CREDENTIAL_VALUE = [/^sk-[A-Za-z0-9_-]{16,}$/, /^(?:Bearer|Basic)\s+\S{8,}$/i, /^(?:AKIA|ASIA)[0-9A-Z]{16}$/, /^(?:ghp|gho|github_pat|xox[abp])_?[A-Za-z0-9_-]{16,}$/];
const URL_LIKE = /^[A-Za-z][A-Za-z0-9+.-]*:\/\//;

/** `apiKey` → ['api', 'key']; `x-api-key` → ['x', 'api', 'key']; `adminTokenHash` → ['admin', 'token', 'hash']. */
function words(name: string): string[] {
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter(Boolean);
}

/** Whether a field or header NAME says its value is a secret. Hashes of secrets are not secrets. */
export function isSecretName(name: string): boolean {
  const w = words(name);
  if (w.includes('hash')) return false;
  if (w.length === 1 && w[0] === 'key') return true;
  return w.some((word, i) => SECRET_WORDS.has(word) || (word === 'key' && i > 0 && KEY_QUALIFIERS.has(w[i - 1]!)));
}

/** Throws (Invalid, naming the field) on the first literal secret in the file's content. */
export function refuseLiteralSecrets(value: unknown, path = '', seen = new Set<object>()): void {
  if (typeof value === 'object' && value !== null) {
    // Only data is walked, once: a JS config's class instances (a client, a store) are the loader's to refuse, and cannot loop here.
    if (seen.has(value) || !isData(value)) return;
    seen.add(value);
    if (Array.isArray(value)) {
      value.forEach((item, i) => refuseLiteralSecrets(item, `${path}[${i}]`, seen));
      return;
    }
    for (const [key, v] of Object.entries(value)) {
      const field = path === '' ? key : `${path}.${key}`;
      if (typeof v === 'string' && isSecretName(key) && !ENV_REF.test(v)) fail(field, literalSecret(field, key));
      refuseLiteralSecrets(v, field, seen);
    }
    return;
  }
  if (typeof value !== 'string' || ENV_REF.test(value)) return;
  if (CREDENTIAL_VALUE.some((shape) => shape.test(value.trim()))) {
    fail(path, `holds what looks like a key or token written in the file: secrets come from the environment only (${ENV_FIELDS} take 'env:NAME')`);
  }
  if (URL_LIKE.test(value)) {
    let url: URL | undefined;
    try {
      url = new URL(value);
    } catch {
      return; // not a URL after all: the field's own check says so
    }
    if (url.password !== '') fail(path, "has a password written into its URL: give the whole URL as 'env:NAME' (credentials come from the environment only)");
    for (const name of url.searchParams.keys()) {
      if (isSecretName(name)) fail(path, `has a secret in its URL (query parameter '${name}'): give the whole URL as 'env:NAME' (credentials come from the environment only)`);
    }
  }
}

function isData(value: object): boolean {
  const proto = Object.getPrototypeOf(value) as unknown;
  return Array.isArray(value) || proto === Object.prototype || proto === null;
}

/** The fields where the loader resolves `env:NAME`. */
const ENV_FIELD = /^(?:chains\.[^.]+\.targets\[\d+\](?:\.members\[\d+\])?\.(?:apiKey|baseURL|headers\..+)|sharedState\.redisUrl)$/;

/** The message for a literal secret at `field`: what to write instead, by what the field is. */
function literalSecret(field: string, key: string): string {
  if (field === 'adminToken') return 'is the operator token written in the file: the gateway keeps only its SHA-256 — write adminTokenHash: <printf %s "$TOKEN" | sha256sum> instead';
  if (/^clients\[\d+\]\.[^.]+$/.test(field)) {
    return `is a client's key written in the file: the gateway keeps only its SHA-256 — write ${field.slice(0, field.lastIndexOf('.'))}.keyHash: <printf %s "$KEY" | sha256sum> instead of ${key}`;
  }
  if (ENV_FIELD.test(field)) return "is a secret written in the file: give it as 'env:NAME', the environment variable that holds it (secrets never live in the config file)";
  return `is a secret written in the file, where secrets never live (${ENV_FIELDS} take 'env:NAME'; the gateway's own keys are SHA-256 hashes)`;
}
