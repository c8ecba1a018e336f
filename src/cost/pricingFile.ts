import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { ConfigError } from '../errors/bulwarkError.js';
import type { ModelPrice } from '../providers/adapter.js';
import { modelPrice } from '../providers/modelPrice.js';
import { Invalid } from '../validation/walk.js';

/**
 * Prices from a JSON file, for teams with negotiated prices:
 * `createResilientLLM({ …, pricing: pricingFromFile('config/llm-prices.json') })`.
 *
 * The file holds one object of model → price, the shape of the `pricing` option (USD per million
 * tokens), merged over the built-in table like it:
 * `{ "gpt-4o": { "inputPerMTok": 2, "outputPerMTok": 8, "cacheReadPerMTok": 1 } }`.
 * Keys match models as the built-in table's do (exact, else the longest key followed by '-' or '@').
 *
 * Read once, synchronously, when called (at start-up). A file that cannot be read, is not JSON, or
 * has an entry that is not a valid price throws a ConfigError naming the file and the entry.
 */
export function pricingFromFile(path: string): Record<string, ModelPrice> {
  const file = resolve(path);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ConfigError(`pricing file ${file}`, `cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    throw new ConfigError(`pricing file ${file}`, `is not valid JSON (${(error as Error).message})`);
  }
  if (data === null || typeof data !== 'object' || Array.isArray(data)) {
    throw new ConfigError(`pricing file ${file}`, 'must hold one JSON object of model → { inputPerMTok, outputPerMTok, cacheReadPerMTok? }');
  }
  const prices: Record<string, ModelPrice> = {};
  for (const [model, value] of Object.entries(data as Record<string, unknown>)) {
    const entry = `pricing file ${file} ['${model}']`;
    if (model.trim() === '') throw new ConfigError(entry, 'has an empty model name');
    try {
      prices[model] = modelPrice(value, entry);
    } catch (error) {
      if (error instanceof Invalid) throw new ConfigError(error.path, error.problem);
      throw error;
    }
  }
  return prices;
}
