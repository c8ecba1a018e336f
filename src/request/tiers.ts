/**
 * Tiers an operator can force the whole chain to during an incident ('auto' = no override):
 * 'reduced' uses only targets marked reduced, 'cached' serves only cached answers, 'static'
 * only the static reply.
 */
export const FORCED_TIERS = ['auto', 'reduced', 'cached', 'static'] as const;
export type ForcedTier = (typeof FORCED_TIERS)[number];
