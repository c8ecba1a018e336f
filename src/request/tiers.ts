/**
 * Tiers an operator can force the whole chain to during an incident ('auto' = no override):
 * 'reduced' uses only targets marked reduced, 'cached' serves only cached answers, 'static'
 * only the static reply.
 */
import type { Tier } from './types.js';

/** A target's own tier: 'reduced' marks a weaker target, whose answers are tier 'reduced'. */
export const TARGET_TIERS = ['full', 'reduced'] as const satisfies readonly Tier[];
export type TargetTier = (typeof TARGET_TIERS)[number];

export const FORCED_TIERS = ['auto', 'reduced', 'cached', 'static'] as const;
export type ForcedTier = (typeof FORCED_TIERS)[number];
