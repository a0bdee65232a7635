import 'reflect-metadata';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { Parser } from '@asyncapi/parser';
import { DEAD_LETTER_HEADERS, DLQ_REPLAY_OF_HEADER, hubTopics } from '@sync-hub/messaging';
import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import { IsString, Validate, ValidateNested, ValidatorConstraint, ValidatorConstraintInterface } from 'class-validator';
import { load } from 'js-yaml';
import { ALL_TOPICS, COMPACTED_TOPICS, DOMAINS, JOBS_BY_DOMAIN, Topic } from '../topics';
import { InvalidMessageError, parseEnvelope } from '../validation';
import { asyncApiDocument, asyncApiYaml, channelId } from './asyncapi-document';
import { DEAD_LETTER_HEADER_SCHEMAS } from './dead-letters';
import { classSchemas } from './payload-schemas';
import { TOPIC_CONTRACTS } from './topic-contracts';

const doc = asyncApiDocument();
const yaml = asyncApiYaml(doc);

/** Ajv over the whole document, so a message's `$ref`s to the component schemas resolve. */
function validator(): Ajv {
  const ajv = new Ajv({ strict: false, allErrors: true });
  addFormats(ajv);
  ajv.addSchema(JSON.parse(JSON.stringify(doc)) as object, 'asyncapi.json');
  return ajv;
}
const ajv = validator();
const check = (pointer: string, value: unknown): string[] => {
  const validate = ajv.getSchema(`asyncapi.json#${pointer}`) ?? ajv.compile({ $ref: `asyncapi.json#${pointer}` });
  return validate(value) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message}`);
};
const runtimeProblems = (value: unknown, cls: new () => object): string[] => {
  try {
    parseEnvelope(value, cls);
    return [];
  } catch (err) {
    if (err instanceof InvalidMessageError) return err.problems;
    throw err;
  }
};

/**
 * Fields the schema requires (every producer sends them: runEventMessage, settingChangedMessage) though parseEnvelope
 * lets them be absent: class-validator 0.15 lets `@ValidateNested` pass an undefined value, and `@Allow` checks nothing.
 */
const RUNTIME_LENIENT: Record<string, string> = { RunEventPayload: 'stats', SettingChangedPayload: 'value' };

describe('the AsyncAPI document (docs/asyncapi.yaml, /docs/events)', () => {
  it('validates with @asyncapi/parser: no error and no warning (the one remaining note is that 3.1.0 exists)', async () => {
    const parser = new Parser();
    const { document, diagnostics } = await parser.parse(yaml);
    const serious = diagnostics
      .filter((d) => d.severity <= 1)
      .map((d) => `${d.code}: ${d.message} at ${d.path.join('.')}`);
    assert.deepEqual(serious, []);
    assert.deepEqual(
      diagnostics.map((d) => d.code),
      ['asyncapi-latest-version'],
    );
    assert.ok(document, 'the parser returns a document');
    assert.equal(document.channels().length, ALL_TOPICS.length * 2);
    assert.ok(document.operations().length > 0);
  });

  it('has a channel for every topic the provisioner creates (each topic and its .dlq), and no other', () => {
    const addresses = Object.values(doc.channels).map((c) => c.address);
    assert.deepEqual([...addresses].sort(), [...hubTopics()].sort());
    for (const topic of ALL_TOPICS) {
      assert.equal(doc.channels[channelId(topic)].address, topic);
      assert.ok(TOPIC_CONTRACTS[topic], `${topic} has a registry entry`);
    }
    assert.deepEqual(Object.keys(TOPIC_CONTRACTS).sort(), [...ALL_TOPICS].sort());
  });

  it('docs/asyncapi.yaml is the document generated from the contracts', () => {
    let root = __dirname;
    while (!fs.existsSync(path.join(root, 'docs', 'asyncapi.yaml'))) {
      const parent = path.dirname(root);
      assert.notEqual(parent, root, 'docs/asyncapi.yaml not found above the test: run `npm run asyncapi`');
      root = parent;
    }
    const committed = fs.readFileSync(path.join(root, 'docs', 'asyncapi.yaml'), 'utf8');
    assert.ok(
      committed === yaml,
      'docs/asyncapi.yaml is stale: a contract changed. Run `npm run asyncapi` and commit docs/asyncapi.yaml',
    );
  });

  it('the YAML reads back as the document (no anchors, no scalar read differently)', () => {
    assert.deepEqual(load(yaml), JSON.parse(JSON.stringify(doc)));
  });

  it("every example passes its message's schemas (payload, key, headers) and the consumers' parseEnvelope", () => {
    for (const topic of ALL_TOPICS) {
      for (const m of TOPIC_CONTRACTS[topic].messages) {
        const message = doc.components.messages[m.name];
        const example = message.examples[0];
        assert.deepEqual(check(`/components/messages/${m.name}/payload`, example.payload), [], `${m.name} payload`);
        const key = message.bindings.kafka.key;
        assert.deepEqual(check(`/components/messages/${m.name}/bindings/kafka/key`, (key.examples as string[])[0]), []);
        if (m.payloadClass)
          assert.deepEqual(runtimeProblems(example.payload, m.payloadClass), [], `${m.name} passes parseEnvelope`);
        else assert.equal(example.payload, null, `${m.name} is a tombstone`);
      }
    }
    for (const name of ['DeadLetter', 'DeadLetterReplayMarker']) {
      const example = doc.components.messages[name].examples[0];
      assert.deepEqual(check(`/components/messages/${name}/headers`, example.headers), [], `${name} headers`);
      assert.deepEqual(check(`/components/messages/${name}/payload`, example.payload), [], `${name} payload`);
    }
  });

  it('the payload schemas agree with parseEnvelope: a field left out, or an unknown one added, is refused by both or neither', () => {
    for (const topic of ALL_TOPICS) {
      for (const m of TOPIC_CONTRACTS[topic].messages) {
        const cls = m.payloadClass;
        if (!cls) continue;
        const value = doc.components.messages[m.name].examples[0].payload as { payload: Record<string, unknown> };
        const variants: Array<readonly [string, Record<string, unknown>]> = [
          ...Object.keys(value.payload).map((field) => {
            const payload = { ...value.payload };
            delete payload[field];
            return [`without ${field}`, payload] as const;
          }),
          ['with an unknown field', { ...value.payload, colour: 'red' }] as const,
        ];
        for (const [what, payload] of variants) {
          const variant = { ...value, payload };
          const bySchema: boolean = check(`/components/messages/${m.name}/payload`, variant).length === 0;
          const byRuntime: boolean = runtimeProblems(variant, cls).length === 0;
          const lenient: boolean = what === `without ${RUNTIME_LENIENT[cls.name]}`;
          assert.equal(
            bySchema === byRuntime,
            !lenient,
            `${m.name} ${what}: schema says ${bySchema}, parseEnvelope ${byRuntime}` +
              (lenient ? ` (listed in RUNTIME_LENIENT: if the class requires it now, take it off the list)` : ''),
          );
        }
      }
    }
    const invalidTick = doc.components.messages.DeadLetter.examples[0].payload;
    assert.notDeepEqual(check('/components/messages/SplynxRequested/payload', invalidTick), []);
  });

  it('derives SyncRequestedPayload from its decorators: uuid runId, DOMAINS, the jobs, nullable optionals, no other fields', () => {
    const schema = doc.components.schemas.SyncRequestedPayload as any;
    assert.deepEqual(schema.properties.runId, { type: 'string', format: 'uuid' });
    assert.deepEqual(schema.properties.domain.enum, [...DOMAINS]);
    assert.deepEqual(
      [...schema.properties.job.enum].sort(),
      [...new Set(Object.values(JOBS_BY_DOMAIN).flat())].sort(),
      'job: the custom jobOfDomain constraint',
    );
    assert.deepEqual(schema.properties.scheduledFor, { type: 'string', format: 'date-time' });
    assert.deepEqual(schema.properties.overlapPolicy.type, ['string', 'null']);
    assert.ok(schema.required.includes('runId') && schema.required.includes('deadline'));
    assert.ok(!schema.required.includes('scheduleId') && !schema.required.includes('params'));
    assert.equal(schema.additionalProperties, false);
    const run = doc.components.schemas.RunEventPayload as any;
    assert.deepEqual(run.properties.stats, { $ref: '#/components/schemas/RunStats' }, 'nested through @Type');
    assert.deepEqual(run.properties.error.anyOf, [{ $ref: '#/components/schemas/RunError' }, { type: 'null' }]);
    assert.deepEqual(run.properties.warnings, {
      type: ['array', 'null'],
      items: { type: 'string', maxLength: 1000 },
      maxItems: 50,
    });
    assert.ok(doc.components.schemas.RunStats && doc.components.schemas.RunError, 'nested classes get schemas');
  });

  it('says which topics are compacted (cleanup.policy), their .dlq never, and keys every message', () => {
    for (const topic of ALL_TOPICS) {
      const policy = doc.channels[channelId(topic)].bindings.kafka.topicConfiguration['cleanup.policy'];
      assert.deepEqual(policy, [COMPACTED_TOPICS.includes(topic) ? 'compact' : 'delete'], topic);
      assert.deepEqual(doc.channels[`${channelId(topic)}Dlq`].bindings.kafka.topicConfiguration['cleanup.policy'], [
        'delete',
      ]);
    }
    for (const [name, message] of Object.entries(doc.components.messages))
      assert.equal(message.bindings.kafka.key.type, 'string', `${name} has a key schema`);
    assert.ok(doc.channels[channelId(Topic.ScheduleChanged)].messages.scheduleDeleted, 'schedule tombstones');
  });

  it('names the dead-letter headers libs/messaging writes', () => {
    assert.deepEqual(Object.keys(DEAD_LETTER_HEADER_SCHEMAS), [...DEAD_LETTER_HEADERS]);
    assert.ok(doc.components.messages.DeadLetterReplayMarker.examples[0].headers?.[DLQ_REPLAY_OF_HEADER]);
    const error = doc.components.messages.DeadLetter.examples[0].headers?.error;
    assert.equal(error, 'invalid message: payload.companyId: companyId must not be less than 1');
  });

  it('stops on a validator it has no schema for, or a nested field without @Type, naming the field', () => {
    @ValidatorConstraint({ name: 'isInvoiceNumber' })
    class IsInvoiceNumber implements ValidatorConstraintInterface {
      validate(): boolean {
        return true;
      }
    }
    class WithCustom {
      @Validate(IsInvoiceNumber) number: string;
    }
    class Untyped {
      @ValidateNested() inner: object;
      @IsString() name: string;
    }
    assert.throws(() => classSchemas([WithCustom], true), /validator "isInvoiceNumber" of WithCustom\.number/);
    assert.throws(() => classSchemas([Untyped], true), /Untyped\.inner is @ValidateNested without a @Type/);
  });
});
