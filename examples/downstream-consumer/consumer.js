#!/usr/bin/env node
// A downstream system's view of the sync hub: a standalone Kafka consumer that keeps a local copy of Splynx customers
// from `splynx.customer.changed.v1`. It knows the hub only through its published contract, the AsyncAPI document
// (docs/asyncapi.yaml): every message is checked against the schema the document gives for the channel's message, and
// nothing of the hub's code is imported.
//
//   KAFKA_BROKERS=host:9092 node consumer.js
//
// Environment:
//   KAFKA_BROKERS   comma-separated host:port list (required)
//   GROUP_ID        the consumer group (default downstream-splynx-customers); a new group reads the compacted topic
//                   from the beginning: the latest state of every customer, then every change as it comes
//   ASYNCAPI        the AsyncAPI document (default ../../docs/asyncapi.yaml, or the gateway's /docs/events/asyncapi.yaml
//                   saved to a file)
//   OUT             where the copy is written, as JSON, after every batch (default ./customers.json)
//   TOPIC           default splynx.customer.changed.v1
//
// The copy: { customers: { <id>: record }, versions: { <id>: { runId, occurredAt, changeType } }, applied, rejected }.
// A deactivated customer stays in the copy with active: false (the hub never deletes one). A message that does not
// match the contract is logged and skipped, never applied. Applying the same event twice changes nothing: the copy
// keeps the latest record per key, and one key's events arrive in order (one partition).
'use strict';

const fs = require('node:fs');
const path = require('node:path');
const { Kafka, logLevel } = require('kafkajs');
const yaml = require('js-yaml');
const Ajv = require('ajv');
const addFormats = require('ajv-formats');

const TOPIC = process.env.TOPIC || 'splynx.customer.changed.v1';
const OUT = path.resolve(process.env.OUT || 'customers.json');
const ASYNCAPI = path.resolve(process.env.ASYNCAPI || path.join(__dirname, '..', '..', 'docs', 'asyncapi.yaml'));

/** The JSON Schema of the messages on `topic`, from the document: the channel's message payload, $refs resolved. */
function messageValidator(doc, topic) {
  const channel = Object.values(doc.channels || {}).find((c) => c.address === topic);
  if (!channel) throw new Error(`the AsyncAPI document has no channel for ${topic}`);
  const messages = Object.values(channel.messages || {}).map((m) => resolve(doc, m));
  if (messages.length !== 1) throw new Error(`expected one message on ${topic}, found ${messages.length}`);
  const ajv = new Ajv({ strict: false, allErrors: true });
  addFormats(ajv);
  // The payload schema's $refs point into the document's components: compile it with them at its root.
  return ajv.compile({ ...messages[0].payload, components: { schemas: doc.components.schemas } });
}

function resolve(doc, node) {
  if (!node || !node.$ref) return node;
  return node.$ref
    .replace(/^#\//, '')
    .split('/')
    .reduce((at, part) => at[part.replace(/~1/g, '/').replace(/~0/g, '~')], doc);
}

function load() {
  try {
    return JSON.parse(fs.readFileSync(OUT, 'utf8'));
  } catch {
    return { customers: {}, versions: {}, applied: 0, rejected: 0 };
  }
}

/** Written whole and renamed into place: a reader never sees half a copy. */
function save(copy) {
  const tmp = `${OUT}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify(copy));
  fs.renameSync(tmp, OUT);
}

async function main() {
  if (!process.env.KAFKA_BROKERS) throw new Error('KAFKA_BROKERS is required');
  const doc = yaml.load(fs.readFileSync(ASYNCAPI, 'utf8'));
  const valid = messageValidator(doc, TOPIC);
  const copy = load();
  const kafka = new Kafka({
    clientId: 'downstream-consumer',
    brokers: process.env.KAFKA_BROKERS.split(','),
    logLevel: logLevel.ERROR,
  });
  const consumer = kafka.consumer({ groupId: process.env.GROUP_ID || 'downstream-splynx-customers' });
  await consumer.connect();
  await consumer.subscribe({ topic: TOPIC, fromBeginning: true });
  await consumer.run({
    eachBatch: async ({ batch, resolveOffset, heartbeat }) => {
      for (const message of batch.messages) {
        const key = message.key ? message.key.toString() : '';
        let value = null;
        try {
          value = message.value ? JSON.parse(message.value.toString()) : null;
        } catch {
          value = undefined;
        }
        if (value === null) {
          // A tombstone: the hub sends none on this topic, but a compacted topic allows it. The key is forgotten.
          delete copy.customers[key];
          delete copy.versions[key];
        } else if (!valid(value) || value.payload.id !== key) {
          copy.rejected++;
          const why = valid.errors
            ? valid.errors.map((e) => `${e.instancePath} ${e.message}`).join('; ')
            : 'key mismatch';
          console.error(`rejected offset ${message.offset} (key ${key}): ${why}`);
        } else {
          const { changeType, runId, occurredAt, record } = value.payload;
          copy.customers[key] = record;
          copy.versions[key] = { runId, occurredAt, changeType };
          copy.applied++;
        }
        resolveOffset(message.offset);
      }
      save(copy);
      console.log(`applied ${copy.applied} rejected ${copy.rejected} customers ${Object.keys(copy.customers).length}`);
      await heartbeat();
    },
  });
  const stop = async () => {
    await consumer.disconnect().catch(() => undefined);
    process.exit(0);
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

main().catch((err) => {
  console.error(err.message);
  process.exit(1);
});
