import { ClassConstructor, plainToInstance } from 'class-transformer';
import { ValidationError, validateSync } from 'class-validator';
import { compiledCheck } from './compiled-check';
import { EventEnvelope } from './envelope';

/** A message that can never be processed: it goes to the dead-letter topic at once, it is not retried. */
export class InvalidMessageError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid message: ${problems.join('; ')}`);
    this.name = 'InvalidMessageError';
  }
}

function flatten(errors: ValidationError[], prefix = ''): string[] {
  return errors.flatMap((e) => {
    const field = `${prefix}${e.property}`;
    const own = Object.values(e.constraints ?? {}).map((m) => `${field}: ${m}`);
    return [...own, ...flatten(e.children ?? [], `${field}.`)];
  });
}

/** Validates a decoded message value as an envelope carrying a payload of the given class. */
export function parseEnvelope<T extends object>(value: unknown, payloadClass: ClassConstructor<T>): EventEnvelope<T> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InvalidMessageError(['value: must be a JSON object envelope']);
  }
  // The compiled checks accept what class-validator would; anything else takes the full path below, which says why.
  const env = compiledCheck(EventEnvelope, { forbidUnknown: false })?.accept(value as Record<string, unknown>);
  const payload =
    env && isPlainObject(env.payload) ? compiledCheck(payloadClass, STRICT)?.accept(env.payload) : undefined;
  if (env && payload) return { ...env, payload };
  return parseEnvelopeFully(value, payloadClass);
}

const STRICT = { forbidUnknown: true };

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The full path: class-transformer's instances and class-validator's walk, with its messages. */
function parseEnvelopeFully<T extends object>(value: object, payloadClass: ClassConstructor<T>): EventEnvelope<T> {
  const env = plainToInstance<EventEnvelope<unknown>, object>(EventEnvelope, value);
  const problems = flatten(validateSync(env, { forbidUnknownValues: false }));
  if (problems.length > 0) throw new InvalidMessageError(problems);
  const payload = plainToInstance(payloadClass, env.payload as object);
  const payloadProblems = flatten(validateSync(payload, { whitelist: true, forbidNonWhitelisted: true }), 'payload.');
  if (payloadProblems.length > 0) throw new InvalidMessageError(payloadProblems);
  return { ...env, payload };
}
