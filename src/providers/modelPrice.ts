import type { ModelPrice } from './adapter.js';
import { fail, fields, finite, isPlainObject, read, type Check } from '../validation/walk.js';

const usdPerMTok = finite({ min: 0, unit: 'USD per million tokens' });

/**
 * A model's price, wherever it is given (chain `pricing`, a target's `pricing`, a factory's
 * option): finite and >= 0, or every cost computed with it is NaN or infinite and `maxCostUsd`
 * can never trigger.
 */
export const modelPrice: Check<ModelPrice> = (value, path) => {
  if (isPlainObject(value) && read(value, 'cachedInputPerMTok', `${path}.cachedInputPerMTok`) !== undefined) {
    fail(`${path}.cachedInputPerMTok`, 'was renamed cacheReadPerMTok (cache writes have their own cacheWritePerMTok)');
  }
  const p = fields(
    {
      inputPerMTok: { required: true, check: usdPerMTok },
      outputPerMTok: { required: true, check: usdPerMTok },
      cacheReadPerMTok: usdPerMTok,
      cacheWritePerMTok: usdPerMTok,
    },
    { unknown: 'reject' },
  )(value, path);
  return p as unknown as ModelPrice;
};
