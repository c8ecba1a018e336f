/**
 * Property-based tests run seeded and bounded in every CI run; `npm run test:props:long` raises the
 * number of runs (BULWARK_PROPERTY_RUNS) for a nightly run. A failure prints its seed and path, so it
 * replays exactly: BULWARK_PROPERTY_SEED=<seed> npx vitest run test/properties.
 */
import type { Parameters } from 'fast-check';

const runs = Number(process.env.BULWARK_PROPERTY_RUNS ?? 150);
const seed = Number(process.env.BULWARK_PROPERTY_SEED ?? 20261203);

export const PROPERTY_RUNS = Number.isSafeInteger(runs) && runs > 0 ? runs : 150;

/** fast-check parameters: the shared seed, `scale` × the run count (a property that does HTTP takes fewer). */
export function propertyParams<T>(scale = 1): Parameters<T> {
  return { seed, numRuns: Math.max(1, Math.round(PROPERTY_RUNS * scale)) };
}
