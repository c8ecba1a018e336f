/**
 * The one validation walk behind requests, the chain config and the target factories.
 *
 * A shape is a `Check`: a function of (value, path) that returns the value or throws `Invalid`
 * naming the path. Shapes compose declaratively (`fields`, `arrayOf`, `optional`, …), so a new
 * field is one line in a table, and every array is walked by index: a hole (`[, x]`) is a
 * problem at its own path, never skipped the way `forEach` / `every` / `map` skip it.
 *
 * Each caller turns `Invalid` into its own error (`ConfigError`, `BulwarkError('bad_request')`).
 * Messages never quote caller strings longer than a short word: a request may carry prompt content.
 */

import { ConfigError } from '../errors/bulwarkError.js';

/** A problem at `path` (`messages[2].role`, `retry.maxAttempts`, …). */
export class Invalid extends Error {
  override readonly name = 'Invalid';
  constructor(
    readonly path: string,
    readonly problem: string,
  ) {
    super(`${path} ${problem}`);
  }
}

export type Check<T = unknown> = (value: unknown, path: string) => T;

/** Runs a configuration check: its finding becomes a ConfigError naming the field. */
export function asConfigError<T>(run: () => T): T {
  try {
    return run();
  } catch (error) {
    if (error instanceof Invalid) throw new ConfigError(error.path, error.problem);
    throw error;
  }
}

export function fail(path: string, problem: string): never {
  throw new Invalid(path, problem);
}

/** What a bad value was, without quoting content: only a short word is shown ('developer'). */
export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (Array.isArray(value)) return 'an array';
  switch (typeof value) {
    case 'string':
      return /^[A-Za-z0-9_.-]{1,32}$/.test(value) ? `'${value}'` : `a string of ${value.length} characters`;
    case 'number':
      return String(value);
    case 'boolean':
      return String(value);
    case 'bigint':
      return 'a bigint';
    case 'object': {
      const ctor = safe(() => (Object.getPrototypeOf(value) as { constructor?: { name?: unknown } } | null)?.constructor?.name);
      return typeof ctor === 'string' && ctor !== 'Object' && /^[A-Za-z0-9_$]{1,40}$/.test(ctor) ? `a ${ctor}` : 'an object';
    }
    default:
      return `a ${typeof value}`;
  }
}

function safe<T>(read: () => T): T | undefined {
  try {
    return read();
  } catch {
    return undefined;
  }
}

/** Reads `object[key]`; a getter or proxy that throws is a problem at that path, not a crash. */
export function read(object: object, key: string, path: string): unknown {
  try {
    return (object as Record<string, unknown>)[key];
  } catch (error) {
    return unreadable(path, error);
  }
}

/**
 * `read` of `object[key]` at `path.key` (`keyPath` when given), the path built only when it is
 * reported: a request's absent fields and valid values cost no string.
 */
export function readField(object: object, key: string, path: string, keyPath: KeyPath = dotted): unknown {
  try {
    return (object as Record<string, unknown>)[key];
  } catch (error) {
    return unreadable(keyPath(path, key), error);
  }
}

function unreadable(path: string, error: unknown): never {
  return fail(path, `could not be read (${error instanceof Error ? error.name : 'error'})`);
}

/** How a field's path is made of its object's path and its key. */
export type KeyPath = (path: string, key: string) => string;
const dotted: KeyPath = (path, key) => (path ? `${path}.${key}` : key);

export function optional<T>(check: Check<T>): Check<T | undefined> {
  return (value, path) => (value === undefined ? undefined : check(value, path));
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

export function plainObject(value: unknown, path: string): Record<string, unknown> {
  if (!isPlainObject(value)) fail(path, `must be an object, got ${describe(value)}`);
  return value;
}

/**
 * Every element of an array, by index. A hole is reported at its index (`targets[0] is an empty
 * slot`), never passed over; `nonEmpty` refuses `[]`.
 */
export function arrayOf<T>(element: (value: unknown, path: string, index: number) => T, options: { nonEmpty?: boolean; what?: string } = {}): Check<T[]> {
  return (value, path) => {
    if (!Array.isArray(value)) fail(path, `must be ${options.nonEmpty ? 'a non-empty array' : 'an array'}${options.what ? ` of ${options.what}` : ''}, got ${describe(value)}`);
    if (options.nonEmpty && value.length === 0) fail(path, `must be a non-empty array${options.what ? ` of ${options.what}` : ''}`);
    const out: T[] = [];
    for (let i = 0; i < value.length; i++) {
      const at = `${path}[${i}]`;
      if (!Object.prototype.hasOwnProperty.call(value, i)) fail(at, 'is an empty slot (a hole in the array)');
      out.push(element(read(value, String(i), at), at, i));
    }
    return out;
  };
}

/** One field of an object shape: its check, and whether it may be left out. */
export interface FieldSpec {
  check: Check;
  required?: boolean;
}

export type Shape = Record<string, FieldSpec | Check>;

/**
 * An object with known fields. `unknown: 'reject'` makes any other key an error naming it (with
 * a did-you-mean hint when a known key is close). Returns the fields' checked values.
 */
export function fields(shape: Shape, options: { unknown?: 'reject' | 'allow'; keyPath?: KeyPath } = {}): Check<Record<string, unknown>> {
  const known = Object.keys(shape);
  const specs = known.map((key): FieldSpec => {
    const spec = shape[key]!;
    return typeof spec === 'function' ? { check: spec } : spec;
  });
  const keyPath = options.keyPath ?? dotted;
  return (value, path) => {
    const object = plainObject(value, path);
    if (options.unknown === 'reject') rejectUnknownKeys(object, known, path, keyPath);
    const out: Record<string, unknown> = {};
    for (let i = 0; i < known.length; i++) {
      const key = known[i]!;
      const spec = specs[i]!;
      const v = readField(object, key, path, keyPath);
      if (v === undefined) {
        if (spec.required) fail(keyPath(path, key), 'is required');
        continue;
      }
      out[key] = spec.check(v, keyPath(path, key));
    }
    return out;
  };
}

export function rejectUnknownKeys(object: object, known: readonly string[], path: string, keyPath: KeyPath = (p, k) => `${p}.${k}`): void {
  for (const key of Object.keys(object)) {
    if (known.includes(key)) continue;
    const hint = didYouMean(key, known);
    fail(keyPath(path, key), `is not an option (${hint ? `did you mean '${hint}'? ` : ''}known: ${known.join(', ')})`);
  }
}

/** The known key closest to a mistyped one (edit distance ≤ 2, or a case-only difference). */
export function didYouMean(key: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = 3;
  for (const candidate of known) {
    const d = candidate.toLowerCase() === key.toLowerCase() ? 0 : editDistance(key, candidate, bestDistance);
    if (d < bestDistance) [best, bestDistance] = [candidate, d];
  }
  return best;
}

/** Levenshtein distance, giving up (returning `limit`) once it cannot be below `limit`. */
function editDistance(a: string, b: string, limit: number): number {
  if (Math.abs(a.length - b.length) >= limit) return limit;
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    if (Math.min(...current) >= limit) return limit;
    previous = current;
  }
  return previous[b.length]!;
}

// ---------------------------------------------------------------------------------------------
// Scalars

/** `nonEmpty`: at least one character; `nonBlank`: something besides whitespace (names, models). */
export function string(options: { nonEmpty?: boolean; nonBlank?: boolean; pattern?: RegExp; patternText?: string } = {}): Check<string> {
  const what = options.nonBlank ? 'non-blank ' : options.nonEmpty ? 'non-empty ' : '';
  return (value, path) => {
    if (typeof value !== 'string') fail(path, `must be a ${what}string, got ${describe(value)}`);
    if ((options.nonEmpty && value === '') || (options.nonBlank && value.trim() === '')) fail(path, `must be a ${what}string`);
    if (options.pattern && !options.pattern.test(value)) fail(path, `must match ${options.patternText ?? String(options.pattern)}, got ${describe(value)}`);
    return value;
  };
}

export function oneOf<T extends string>(allowed: readonly T[]): Check<T> {
  return (value, path) => {
    if (typeof value !== 'string' || !allowed.includes(value as T)) {
      fail(path, `must be one of ${allowed.map((a) => `'${a}'`).join(', ')}, got ${describe(value)}`);
    }
    return value as T;
  };
}

export const boolean: Check<boolean> = (value, path) => {
  if (typeof value !== 'boolean') fail(path, `must be a boolean, got ${describe(value)}`);
  return value;
};

export function func<T extends (...args: never[]) => unknown>(what = 'a function'): Check<T> {
  return (value, path) => {
    if (typeof value !== 'function') fail(path, `must be ${what}, got ${describe(value)}`);
    return value as T;
  };
}

/** Longest timer Node.js can set: a longer one fires after 1 ms, which would cut every call at once. */
export const MAX_TIMER_MS = 2_147_483_647;

export interface NumberRule {
  integer?: boolean;
  /** Inclusive lower bound. */
  min?: number;
  /** Exclusive lower bound. */
  above?: number;
  /** Inclusive upper bound. */
  max?: number;
  /** Why `max` is the bound (shown in the error). */
  maxReason?: string;
  /** What the number is, for the message ('USD per million tokens', 'tokens'). */
  unit?: string;
}

/**
 * The one number rule: every duration, price, ratio and limit is a finite number (NaN and
 * ±Infinity never are: an infinite price makes every cost NaN, an infinite duration never ends),
 * then its bounds.
 */
export function finite(rule: NumberRule = {}): Check<number> {
  return (value, path) => {
    const unit = rule.unit ? ` (${rule.unit})` : '';
    if (typeof value !== 'number' || !Number.isFinite(value)) fail(path, `must be a finite number${unit}, got ${describe(value)}`);
    if (rule.integer && !Number.isSafeInteger(value)) fail(path, `must be an integer${unit}, got ${value}`);
    if (rule.min !== undefined && value < rule.min) fail(path, `must be >= ${rule.min}${unit}, got ${value}`);
    if (rule.above !== undefined && value <= rule.above) fail(path, `must be > ${rule.above}${unit}, got ${value}`);
    if (rule.max !== undefined && value > rule.max) fail(path, `must be at most ${rule.max}${rule.maxReason ? ` (${rule.maxReason})` : ''}, got ${value}`);
    return value;
  };
}

/** A duration that becomes a timer: > 0 and at most what Node.js can set. */
export const timerMs = finite({ above: 0, max: MAX_TIMER_MS, maxReason: 'the longest timer Node.js can set' });

// ---------------------------------------------------------------------------------------------
// JSON values

/** Deeper nesting than this is refused rather than walked (a JSON schema is never this deep). */
export const MAX_JSON_DEPTH = 200;

/**
 * A value the SDKs can send as JSON exactly as given: `JSON.stringify` would throw on a cycle or
 * a BigInt, and would silently drop or change functions, symbols, `undefined` array items,
 * NaN / Infinity, Maps, Dates and class instances. Checked here so such a value fails in
 * validation, naming its path, instead of inside an attempt. `undefined` object properties are
 * allowed (they mean "absent", as in JSON.stringify).
 */
export const jsonValue: Check = (value, path) => {
  walkJson(value, path, new Set(), 0);
  return value;
};

function walkJson(value: unknown, path: string, ancestors: Set<object>, depth: number): void {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return;
    case 'number':
      if (!Number.isFinite(value)) fail(path, `must be JSON: ${value} is not a JSON number`);
      return;
    case 'object':
      break;
    default:
      fail(path, `must be JSON: ${describe(value)} cannot be serialized`);
  }
  if (value === null) return;
  if (depth >= MAX_JSON_DEPTH) fail(path, `is nested deeper than ${MAX_JSON_DEPTH} levels`);
  if (ancestors.has(value)) fail(path, 'must be JSON: it refers back to itself (a cycle)');
  ancestors.add(value);
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const at = `${path}[${i}]`;
      if (!Object.prototype.hasOwnProperty.call(value, i)) fail(at, 'is an empty slot (a hole in the array)');
      const item = read(value, String(i), at);
      if (item === undefined) fail(at, 'must be JSON: undefined cannot be serialized');
      walkJson(item, at, ancestors, depth + 1);
    }
  } else {
    const proto = Object.getPrototypeOf(value);
    if (proto !== Object.prototype && proto !== null) fail(path, `must be plain JSON, got ${describe(value)}`);
    if (Object.getOwnPropertySymbols(value).length > 0) fail(path, 'must be JSON: symbol keys cannot be serialized');
    for (const key of Object.keys(value)) {
      const at = /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(key) ? `${path}.${key}` : `${path}[${key.length <= 32 ? JSON.stringify(key) : '…'}]`;
      const item = read(value, key, at);
      if (item !== undefined) walkJson(item, at, ancestors, depth + 1);
    }
  }
  ancestors.delete(value);
}
