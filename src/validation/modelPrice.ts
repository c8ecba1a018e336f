import type { ModelPrice } from '../providers/adapter.js';
import { fields, finite, type Check } from './walk.js';

const usdPerMTok = finite({ min: 0, unit: 'USD per million tokens' });

/**
 * A model's price, wherever it is given (chain `pricing`, a target's `pricing`, a factory's
 * option): finite and >= 0, or every cost computed with it is NaN or infinite and `maxCostUsd`
 * can never trigger.
 */
export const modelPrice: Check<ModelPrice> = (value, path) => {
  const p = fields(
    {
      inputPerMTok: { required: true, check: usdPerMTok },
      outputPerMTok: { required: true, check: usdPerMTok },
      cachedInputPerMTok: usdPerMTok,
    },
    { unknown: 'reject' },
  )(value, path);
  return p as unknown as ModelPrice;
};
