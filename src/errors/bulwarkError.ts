import type { AttemptRecord, ToolCall } from '../records/types.js';
import type { ErrorType } from './errorTypes.js';

/**
 * Thrown when nothing can answer (or the request is invalid / cancelled / critical).
 * Holds the attempts made and the last cause; never secrets.
 */
export class BulwarkError extends Error {
  override readonly name: string = 'BulwarkError';
  readonly errorType: ErrorType;
  readonly attempts: AttemptRecord[];

  constructor(errorType: ErrorType, message: string, options: { attempts?: AttemptRecord[]; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.errorType = errorType;
    this.attempts = options.attempts ?? [];
  }

  static isInstance(value: unknown): value is BulwarkError {
    return value instanceof BulwarkError;
  }
}

/** Thrown at construction when a config field is invalid; names the field. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  readonly field: string;
  constructor(field: string, problem: string) {
    super(`Invalid Bulwark config: ${field} ${problem}`);
    this.field = field;
  }
}

/**
 * A stream failed after content was delivered and the mid-stream policy is 'error'. Carries
 * what the consumer received, so it can keep or discard it knowingly.
 */
export class StreamInterruptedError extends BulwarkError {
  override readonly name: string = 'StreamInterruptedError';
  readonly received: { text: string; toolCalls: ToolCall[] };
  constructor(errorType: ErrorType, message: string, received: StreamInterruptedError['received'], options: { attempts?: AttemptRecord[]; cause?: unknown } = {}) {
    super(errorType, message, options);
    this.received = received;
  }
}
