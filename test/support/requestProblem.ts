import { BulwarkError } from '../../src/errors/bulwarkError.js';
import type { ChatRequest } from '../../src/request/types.js';
import { validateRequest } from '../../src/validation/validateRequest.js';

/** The BulwarkError a request is refused with; throws when it is accepted. */
export function problemOf(request: unknown): BulwarkError {
  try {
    validateRequest(request as ChatRequest);
  } catch (e) {
    if (e instanceof BulwarkError) return e;
    throw e;
  }
  throw new Error('expected the request to be rejected');
}
