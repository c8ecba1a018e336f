import { FrontRequestError } from './frontError.js';

/**
 * Reading a provider's native JSON body field by field. Every reader names the field it refuses;
 * `null` is "not set", as both providers' APIs treat it.
 */
export type Json = Record<string, unknown>;

export function isSet<T>(value: T | null | undefined): value is T {
  return value !== undefined && value !== null;
}

export function object(value: unknown, path: string): Json {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new FrontRequestError(path, 'must be an object');
  return value as Json;
}

export function array(value: unknown, path: string): unknown[] {
  if (!Array.isArray(value)) throw new FrontRequestError(path, 'must be an array');
  return value;
}

export function string(value: unknown, path: string): string {
  if (typeof value !== 'string') throw new FrontRequestError(path, 'must be a string');
  return value;
}

export function number(value: unknown, path: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new FrontRequestError(path, 'must be a finite number');
  return value;
}

export function boolean(value: unknown, path: string): boolean {
  if (typeof value !== 'boolean') throw new FrontRequestError(path, 'must be a boolean');
  return value;
}

/**
 * Refuses every set field outside `known`: a native field that maps to nothing in Bulwark is a 400
 * naming it, never dropped. `accepted` lists fields accepted only with the value that changes
 * nothing (e.g. `n: 1`): any other value is refused too.
 */
export function refuseUnknown(body: Json, known: ReadonlySet<string>, path: string, accepted: Record<string, (v: unknown) => boolean> = {}): void {
  for (const [key, value] of Object.entries(body)) {
    if (!isSet(value) || known.has(key)) continue;
    const name = path ? `${path}.${key}` : key;
    const neutral = accepted[key];
    if (neutral) {
      if (neutral(value)) continue;
      throw new FrontRequestError(name, `value ${JSON.stringify(value)} is not supported by Bulwark (only its default is)`);
    }
    throw new FrontRequestError(name, 'is not supported by Bulwark');
  }
}
