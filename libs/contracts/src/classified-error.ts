import { ErrorOrigin, RunError } from './run-events';

/**
 * An error that knows what it means for a run: where it came from (the upstream source, our database destination,
 * configuration, or our own code) and whether trying again may help. Thrown where the fact is known.
 */
export abstract class ClassifiedError extends Error {
  abstract readonly code: string;
  abstract readonly origin: ErrorOrigin;
  abstract readonly retriable: boolean;

  toRunError(): RunError {
    return { code: this.code, message: this.message, retriable: this.retriable, origin: this.origin };
  }
}

/** A configuration problem: retrying will not help until an operator changes something. */
export class ConfigurationError extends ClassifiedError {
  readonly origin = 'config' as const;
  readonly retriable = false;
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ConfigurationError';
  }
}
