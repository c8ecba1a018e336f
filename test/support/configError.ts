import { createResilientLLM } from '../../src/createResilientLLM.js';
import { ConfigError } from '../../src/errors/bulwarkError.js';

/** The ConfigError `fn` throws; rethrows any other error and throws when `fn` succeeds. */
export function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

/** The ConfigError `createResilientLLM(options)` refuses the options with. */
export const errorOf = (options: unknown): ConfigError => configError(() => createResilientLLM(options as never));
