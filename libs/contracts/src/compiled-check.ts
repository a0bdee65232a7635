import { defaultMetadataStorage } from 'class-transformer/cjs/storage';
import {
  getMetadataStorage,
  ValidationArguments,
  ValidationTypes,
  ValidatorConstraintInterface,
} from 'class-validator';

/**
 * A contract class's checks, compiled once: what `validateSync(plainToInstance(cls, plain))` would run on a message,
 * without walking class-validator's metadata store for every message (the cost of a tick's validation was that walk,
 * not the checks: 8–10 % of a sync app's CPU per ping).
 *
 * It answers one question only: is this plain value valid? It runs the very constraint instances class-validator
 * registered (the same `validate(value, args)` calls, the custom ones such as a job belonging to its domain included),
 * so a yes means class-validator would say yes. A no is handed to class-validator itself, which says why: the messages
 * are always class-validator's. A class it cannot model exactly (nested validation, `each`, groups, `@IsDefined`, async
 * constraints, class-transformer decorators that change the instance) compiles to nothing, and its messages always take
 * the full path.
 */
export interface CompiledCheck<T extends object> {
  /** The instance `plainToInstance` would build, when the value passes every check; else `undefined`. */
  accept(plain: Record<string, unknown>): T | undefined;
}

interface PropertyPlan {
  name: string;
  conditions: Array<(object: object, value: unknown) => boolean>;
  checks: Array<{
    validate: ValidatorConstraintInterface['validate'];
    validateIf?: (object: object, value: unknown) => boolean;
    constraints: unknown[];
  }>;
}

interface Options {
  /** `whitelist` with `forbidNonWhitelisted`: a property without a decorator makes the value invalid. */
  forbidUnknown: boolean;
}

const compiled = new Map<string, WeakMap<object, CompiledCheck<object> | null>>();

/** The compiled check of a class for the given options, or `null` when the class must take the full path. */
export function compiledCheck<T extends object>(cls: new () => T, options: Options): CompiledCheck<T> | null {
  const key = options.forbidUnknown ? 'strict' : 'open';
  let byClass = compiled.get(key);
  if (!byClass) compiled.set(key, (byClass = new WeakMap()));
  let check = byClass.get(cls);
  if (check === undefined) {
    check = compile(cls, options);
    byClass.set(cls, check);
  }
  return check as CompiledCheck<T> | null;
}

/** Whether class-transformer holds anything for the class that would make `plainToInstance` more than a copy. */
function transformsInstances(cls: object): boolean {
  const storage = defaultMetadataStorage as unknown as Record<string, unknown>;
  const maps = ['_typeMetadatas', '_transformMetadatas', '_exposeMetadatas', '_excludeMetadatas'].map(
    (m) => storage[m],
  );
  // A class-transformer that keeps its metadata elsewhere cannot be checked: take the full path.
  if (!maps.every((m) => m instanceof Map)) return true;
  const targets: unknown[] = [];
  for (let t: unknown = cls; typeof t === 'function' && t !== Function.prototype; t = Object.getPrototypeOf(t)) {
    targets.push(t);
  }
  return (maps as Array<Map<unknown, unknown>>).some((m) => targets.some((t) => m.has(t)));
}

function compile<T extends object>(cls: new () => T, options: Options): CompiledCheck<T> | null {
  if (transformsInstances(cls)) return null;
  const storage = getMetadataStorage();
  // The same selection `validateSync(object, { … })` makes: no groups, `always` off, `strictGroups` off.
  const metadatas = storage.getTargetValidationMetadatas(cls, '', false, false, undefined);
  if (metadatas.length === 0) return null; // class-validator reports an unknown value, or checks nothing: full path.
  const byName = storage.groupByPropertyName(metadatas);
  const plans: PropertyPlan[] = [];
  for (const [name, list] of Object.entries(byName)) {
    const plan: PropertyPlan = { name, conditions: [], checks: [] };
    for (const m of list) {
      if (m.each || (m.groups && m.groups.length > 0) || m.always !== undefined) return null;
      if (m.type === ValidationTypes.WHITELIST) continue;
      if (m.type === ValidationTypes.CONDITIONAL_VALIDATION) {
        plan.conditions.push(m.constraints[0] as (object: object, value: unknown) => boolean);
      } else if (m.type === ValidationTypes.CUSTOM_VALIDATION) {
        const constraints = storage.getTargetValidatorConstraints(m.constraintCls);
        if (constraints.length === 0 || constraints.some((c) => c.async)) return null;
        for (const c of constraints) {
          plan.checks.push({
            validate: c.instance.validate.bind(c.instance),
            validateIf: m.validateIf,
            constraints: m.constraints,
          });
        }
      } else {
        return null; // nested, promise or is-defined validation: the full path models them.
      }
    }
    plans.push(plan);
  }
  const allowed = new Set(Object.keys(byName));
  const targetName = cls.name;

  return {
    accept(plain: Record<string, unknown>): T | undefined {
      // Never assigned here (`__proto__` would set the prototype): the full path decides.
      if (Object.hasOwn(plain, '__proto__') || Object.hasOwn(plain, 'constructor')) return undefined;
      const object = Object.assign(new cls(), plain);
      if (options.forbidUnknown) {
        // The instance's keys, as class-validator's whitelist reads them (a field the class declares included).
        for (const k of Object.keys(object)) if (!allowed.has(k)) return undefined;
      }
      const record = object as Record<string, unknown>;
      for (const plan of plans) {
        const value = record[plan.name];
        let applies = true;
        for (const condition of plan.conditions) applies = condition(object, value) && applies;
        if (!applies) continue;
        for (const check of plan.checks) {
          if (check.validateIf && !check.validateIf(object, value)) continue;
          const args: ValidationArguments = {
            targetName,
            property: plan.name,
            object,
            value,
            constraints: check.constraints as ValidationArguments['constraints'],
          };
          const ok = check.validate(value, args);
          if (ok !== true) return undefined; // false, or a promise (an async check): the full path decides.
        }
      }
      return object;
    },
  };
}
