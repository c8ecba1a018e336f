import type { CIRCUIT_STATE_VALUES } from '../telemetry/names.js';

/** A breaker's effective state (the values are `bulwark.circuit.state`'s, in telemetry/names.ts). */
export type CircuitState = (typeof CIRCUIT_STATE_VALUES)[number];

/** Operator override of a breaker: 'open' rejects, 'closed' admits, 'auto' resumes automatic operation. */
export const BREAKER_OVERRIDES = ['auto', 'open', 'closed'] as const;
export type BreakerOverride = (typeof BREAKER_OVERRIDES)[number];

/** A breaker changed state: what every observer hears, and the attempt span whose outcome caused it. */
export interface BreakerTransition {
  breaker: string;
  from: CircuitState;
  to: CircuitState;
  /** Why: 'consecutive_failures' | 'failure_rate' | 'immediate' (auth etc.) | 'open_elapsed' | 'probe_failed' | 'probes_succeeded' | 'forced' … */
  reason: string;
  at: number;
  /**
   * Shared state only: true when another process performed this transition and this process
   * learned of it. Reported so every process shows it, but not added to the fleet-wide
   * transition count (the process that performed it counts it).
   */
  observed?: boolean;
}
