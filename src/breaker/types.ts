export type CircuitState = 'closed' | 'half_open' | 'open';

export const CIRCUIT_STATES: readonly CircuitState[] = ['closed', 'half_open', 'open'];

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

/** Operator override of a breaker. */
export type BreakerOverride = 'auto' | 'open' | 'closed';
