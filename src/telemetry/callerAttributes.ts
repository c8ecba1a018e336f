/**
 * Caller attributes: the opt-in `telemetry.attributes(request)` hook lets an application put a few
 * bounded attributes of its own (`app.tenant`, `app.plan`, …) on the request span and on
 * `bulwark.requests`, `bulwark.cost` and `gen_ai.client.token.usage` — nothing else.
 *
 * Two guards keep a hook from hurting the application:
 * - its contract (keys under `app.`, primitive values, a plain object) is checked on every call; a
 *   hook that throws or breaks it leaves the request without caller attributes, and the observer
 *   counts it (`bulwark.telemetry.errors{bulwark.telemetry.stage="attributes_hook"}`);
 * - a hard per-instrument cap on distinct attribute sets: past it, new sets are recorded with
 *   `otel.metric.overflow=true` instead of their values (the SDK's own overflow marker), so every
 *   request and dollar is still counted, per chain, outcome and model, and no series is added.
 *   The SDK's cardinality limit alone is not a hard cap: with cumulative temporality it applies to
 *   each collection interval's new series, so new values in the next interval add series again.
 */
import type { Attributes } from '@opentelemetry/api';
import type { ChatRequest } from '../request/types.js';

/** Every caller attribute key starts with this (never a Bulwark or GenAI name). */
export const CALLER_ATTRIBUTE_PREFIX = 'app.';
/** Distinct caller-attribute sets per instrument before overflow (the value the issue fixes). */
export const DEFAULT_CALLER_ATTRIBUTE_LIMIT = 200;
/** The attribute the OpenTelemetry SDK marks its cardinality-overflow series with. */
export const OVERFLOW_ATTRIBUTE = 'otel.metric.overflow';

export type CallerAttributeValue = string | number | boolean;
export type CallerAttributesHook = (request: ChatRequest) => Readonly<Record<string, CallerAttributeValue>> | undefined;

/** `telemetry` as an object: the chain's own telemetry options. */
export interface TelemetryOptions {
  /** Emit spans and metrics (default true; `telemetry: false` is the short form of `{ enabled: false }`). */
  enabled?: boolean;
  /**
   * Caller attributes per request, e.g. `(req) => ({ 'app.tenant': tenantOf(req) })`: keys under
   * `app.`, values strings, finite numbers or booleans. They go onto the request span and onto
   * `bulwark.requests`, `bulwark.cost` and `gen_ai.client.token.usage` only. Every distinct value set
   * is a new series of those metrics: keep them bounded (tenants, plans — never user or request ids).
   */
  attributes?: CallerAttributesHook;
  /**
   * Distinct caller-attribute value sets per instrument before later ones go to the overflow
   * series (`otel.metric.overflow=true`). Default 200.
   */
  attributeLimit?: number;
  /**
   * Value sets known up front (e.g. every tenant of a plan list): admitted at start, with their
   * counter series pre-created at 0, so rates and alerts see each of them from its first request.
   * They count toward `attributeLimit`.
   */
  knownAttributes?: ReadonlyArray<Readonly<Record<string, CallerAttributeValue>>>;
}

/** The resolved caller-attributes setting. */
export interface CallerAttributesConfig {
  hook: CallerAttributesHook;
  limit: number;
  known: readonly CallerAttributes[];
}

/** Caller attributes of one request, and the key that identifies their value set. */
export interface CallerAttributes {
  attributes: Attributes;
  key: string;
}

export type CallerAttributesResult = { ok: true; value: CallerAttributes | undefined } | { ok: false; problem: string; key?: string };

const KEY = /^app\.[A-Za-z0-9_.-]+$/;

/**
 * Calls the hook and checks what it returned. Never throws. `undefined`/`null` or an empty object
 * mean "no caller attributes". The problem text names keys, never values (which may be user data).
 */
export function readCallerAttributes(hook: CallerAttributesHook, request: ChatRequest): CallerAttributesResult {
  let returned: unknown;
  try {
    returned = hook(request);
  } catch {
    return { ok: false, problem: 'the hook threw' };
  }
  return checkCallerAttributes(returned);
}

/** Checks one attribute set against the contract (a plain object, keys under `app.`, primitive values). */
export function checkCallerAttributes(value: unknown): CallerAttributesResult {
  if (value === undefined || value === null) return { ok: true, value: undefined };
  if (typeof value !== 'object' || Array.isArray(value)) return { ok: false, problem: 'must be an object of attributes' };
  const attributes: Attributes = {};
  const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  for (const [key, v] of entries) {
    if (!KEY.test(key)) return { ok: false, key, problem: `key '${truncate(key)}' is not under the '${CALLER_ATTRIBUTE_PREFIX}' prefix` };
    const primitive = typeof v === 'string' || typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v));
    if (!primitive) return { ok: false, key, problem: `the value of '${key}' must be a string, a finite number or a boolean` };
    attributes[key] = v;
  }
  if (entries.length === 0) return { ok: true, value: undefined };
  return { ok: true, value: { attributes, key: JSON.stringify(entries) } };
}

function truncate(key: string): string {
  return key.length > 40 ? `${key.slice(0, 40)}…` : key;
}

/**
 * The hard cap of one instrument: the first `limit` distinct caller-attribute sets get series of
 * their own, every later one goes to the overflow series. Sets once admitted stay admitted.
 * `onAdmit` runs once per admitted set, before its first recording (to pre-create its series).
 */
export class CardinalityCap {
  private readonly admitted = new Map<string, CallerAttributes>();
  /** Merged attribute objects by base object and caller set: one object per series, built once. */
  private readonly merged = new WeakMap<Attributes, Map<string, Attributes>>();
  constructor(
    readonly limit: number,
    private readonly onAdmit?: (caller: CallerAttributes) => void,
  ) {}

  /**
   * The attributes to record with: `base` plus the caller's, or plus the overflow marker. The same
   * object for the same series (`base` being one itself): request-path counters key their sums by it.
   */
  attributes(base: Attributes, caller: CallerAttributes | undefined): Attributes {
    if (caller === undefined) return base;
    const own = this.admit(caller);
    const key = own ? caller.key : OVERFLOW_ATTRIBUTE;
    let byCaller = this.merged.get(base);
    if (!byCaller) {
      byCaller = new Map();
      this.merged.set(base, byCaller);
    }
    let attributes = byCaller.get(key);
    if (!attributes) {
      attributes = own ? { ...base, ...caller.attributes } : { ...base, [OVERFLOW_ATTRIBUTE]: true };
      byCaller.set(key, attributes);
    }
    return attributes;
  }

  /** Whether the set has (or now gets) series of its own. */
  admit(caller: CallerAttributes): boolean {
    if (this.admitted.has(caller.key)) return true;
    if (this.admitted.size >= this.limit) return false;
    this.admitted.set(caller.key, caller);
    this.onAdmit?.(caller);
    return true;
  }

  /** The admitted sets, in admission order. */
  sets(): IterableIterator<CallerAttributes> {
    return this.admitted.values();
  }
}
