import { ClassConstructor } from 'class-transformer';
import type { MetadataStorage as TypeMetadataStorage } from 'class-transformer/types/MetadataStorage';
import { IS_ISO8601, ValidationTypes } from 'class-validator';
import type { ValidationMetadata } from 'class-validator/types/metadata/ValidationMetadata';
import { targetConstructorToSchema } from 'class-validator-jsonschema';
import type { ISchemaConverters } from 'class-validator-jsonschema/build/defaultConverters';
import { JOBS_BY_DOMAIN } from '../topics';

/** A JSON Schema (draft-07, the AsyncAPI schema format's base) as a plain object. */
export type JsonSchema = { [keyword: string]: unknown };

/** Where the document keeps the schemas of the contract classes. */
export const SCHEMA_REF = '#/components/schemas/';

// class-transformer keeps the `@Type` of nested fields in a storage its index does not export; its CJS build does
// (the storage class-validator-jsonschema documents for nested classes).
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { defaultMetadataStorage } = require('class-transformer/cjs/storage') as {
  defaultMetadataStorage: TypeMetadataStorage;
};

/**
 * The schemas of the validators the library does not know: the custom constraints of the contracts. A custom
 * constraint missing here stops the generator (CUSTOM_VALIDATION below), so no field is documented as "anything".
 */
const CUSTOM_CONSTRAINT_SCHEMAS: ISchemaConverters = {
  jobOfDomain: {
    type: 'string',
    enum: [...new Set(Object.values(JOBS_BY_DOMAIN).flat())],
    description: "One of the jobs of the message's `domain` (JOBS_BY_DOMAIN in libs/contracts/src/topics.ts).",
  },
};

/**
 * The JSON Schemas of the given classes and of every class they nest (`@ValidateNested` + `@Type`), by class name,
 * derived from their class-validator decorators. `closed` classes (payloads, validated with `forbidNonWhitelisted`,
 * and what they nest) refuse unknown fields.
 */
export function classSchemas(classes: ClassConstructor<object>[], closed: boolean): Record<string, JsonSchema> {
  const schemas: Record<string, JsonSchema> = {};
  const seen = new Map<string, ClassConstructor<object>>();
  const pending = [...classes];
  for (let cls = pending.shift(); cls; cls = pending.shift()) {
    const known = seen.get(cls.name);
    if (known === cls) continue;
    if (known) throw new Error(`two contract classes are named ${cls.name}: the document names schemas by class`);
    seen.set(cls.name, cls);
    const nested: ClassConstructor<object>[] = [];
    const schema = targetConstructorToSchema(cls, {
      classTransformerMetadataStorage: defaultMetadataStorage,
      refPointerPrefix: SCHEMA_REF,
      additionalConverters: converters(nested),
    }) as JsonSchema;
    if (!schema.properties) throw new Error(`${cls.name} has no class-validator decorators to derive a schema from`);
    schemas[cls.name] = finish(schema, closed);
    pending.push(...nested);
  }
  return schemas;
}

function converters(nested: ClassConstructor<object>[]): ISchemaConverters {
  return {
    ...CUSTOM_CONSTRAINT_SCHEMAS,
    // Every timestamp of the contracts is produced by Date#toISOString(); the schema says so.
    [IS_ISO8601]: { type: 'string', format: 'date-time' },
    [ValidationTypes.NESTED_VALIDATION]: (meta: ValidationMetadata) => {
      const child = nestedClass(meta);
      nested.push(child);
      return { $ref: `${SCHEMA_REF}${child.name}` };
    },
    [ValidationTypes.CUSTOM_VALIDATION]: (meta: ValidationMetadata) => {
      throw new Error(
        `no JSON Schema for the validator "${meta.type}" of ${(meta.target as { name?: string }).name}.${meta.propertyName}: ` +
          'add it to CUSTOM_CONSTRAINT_SCHEMAS in libs/contracts/src/asyncapi/payload-schemas.ts',
      );
    },
  };
}

/** The class a nested field holds: its `@Type`, as class-transformer instantiates it before validation. */
function nestedClass(meta: ValidationMetadata): ClassConstructor<object> {
  const target = meta.target as ClassConstructor<object>;
  const type = defaultMetadataStorage.findTypeMetadata(target, meta.propertyName)?.typeFunction();
  if (typeof type !== 'function' || type === Object)
    throw new Error(`${target.name}.${meta.propertyName} is @ValidateNested without a @Type(() => Class)`);
  return type as ClassConstructor<object>;
}

/**
 * An optional field (`@IsOptional`) may also be null, as class-validator accepts it; a closed class refuses other
 * fields. Keys in a fixed order, so the document is the same byte for byte whatever order the converters merged.
 */
function finish(schema: JsonSchema, closed: boolean): JsonSchema {
  const required = new Set((schema.required as string[] | undefined) ?? []);
  const properties: Record<string, JsonSchema> = {};
  for (const [name, field] of Object.entries(schema.properties as Record<string, JsonSchema>))
    properties[name] = canonical(required.has(name) ? field : nullable(field));
  return canonical({
    ...schema,
    properties,
    ...(required.size > 0 ? { required: [...required] } : {}),
    ...(closed ? { additionalProperties: false } : {}),
  });
}

function nullable(field: JsonSchema): JsonSchema {
  if (Object.keys(field).length === 0) return field;
  if (typeof field.type === 'string' && !field.$ref) {
    const enumWithNull = Array.isArray(field.enum) ? { enum: [...(field.enum as unknown[]), null] } : {};
    return { ...field, type: [field.type, 'null'], ...enumWithNull };
  }
  return { anyOf: [field, { type: 'null' }] };
}

const KEY_ORDER = [
  '$ref',
  'title',
  'description',
  'type',
  'format',
  'const',
  'enum',
  'pattern',
  'minimum',
  'maximum',
  'minLength',
  'maxLength',
  'items',
  'minItems',
  'maxItems',
  'properties',
  'required',
  'additionalProperties',
  'allOf',
  'anyOf',
  'oneOf',
  'examples',
];

/** The schema with its keywords in KEY_ORDER (others after, alphabetically), nested schemas too; properties keep their order. */
export function canonical(schema: JsonSchema): JsonSchema {
  const rank = (k: string) => (KEY_ORDER.includes(k) ? KEY_ORDER.indexOf(k) : KEY_ORDER.length);
  const keys = Object.keys(schema).sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
  const out: JsonSchema = {};
  for (const key of keys) {
    const value = schema[key];
    if (key === 'properties')
      out[key] = Object.fromEntries(
        Object.entries(value as Record<string, JsonSchema>).map(([k, v]) => [k, canonical(v)]),
      );
    else if (key === 'items' && isSchema(value)) out[key] = canonical(value);
    else if (['allOf', 'anyOf', 'oneOf'].includes(key)) out[key] = (value as JsonSchema[]).map(canonical);
    else out[key] = value;
  }
  return out;
}

function isSchema(value: unknown): value is JsonSchema {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
