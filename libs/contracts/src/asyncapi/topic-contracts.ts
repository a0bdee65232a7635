import { ClassConstructor } from 'class-transformer';
import {
  AccountingDocumentChangedPayload,
  LoyaltyRowChangedPayload,
  RobawsCustomerChangedPayload,
  SplynxCustomerChangedPayload,
} from '../change-events';
import { CompanyChangedPayload } from '../company-changed';
import { RobawsWebhookReceivedPayload } from '../robaws-webhook-received';
import { RunEventPayload } from '../run-events';
import { ScheduleChangedPayload } from '../schedule-changed';
import { SettingChangedPayload } from '../setting-changed';
import { SyncRequestedPayload } from '../sync-requested';
import { Domain, Topic } from '../topics';
import { UsageConfigUpdatedPayload, UsageLimitCrossedPayload } from '../usage-events';
import * as examples from './examples';
import { ExampleRecord } from './examples';
import { JsonSchema } from './payload-schemas';

/** The processes that produce or consume the hub's topics: the apps (`dist/apps/<app>/main.js`) and the CLI. */
export const HUB_APPS = [
  'scheduler',
  'gateway',
  'splynx-sync',
  'accounting-sync',
  'crm-sync',
  'usage-sync',
  'cli',
] as const;
export type HubApp = (typeof HUB_APPS)[number];

/** One kind of message on a topic. */
export interface MessageContract {
  /** Its name in the document (`components.messages`), PascalCase and unique. */
  name: string;
  title: string;
  summary: string;
  /** The class of the envelope's `payload`; null for a tombstone (a null value). */
  payloadClass: ClassConstructor<object> | null;
  /** A record as the producer sends it; the envelope's `type` is taken from it. */
  example: () => ExampleRecord;
}

/**
 * What the document says of one topic. Adding a topic to `Topic` means adding its entry here (the registry's type
 * makes it a compile error not to): its payload class, key, summary, example and who sends and reads it.
 */
export interface TopicContract {
  summary: string;
  description: string;
  /** The record key: a string schema with a description (and a pattern or format when it has one). */
  key: JsonSchema & { description: string };
  messages: MessageContract[];
  /** Who sends it, and when. */
  producers: Partial<Record<HubApp, string>>;
  /** Who reads it (its consumer group is the app name unless KAFKA_GROUP_ID says otherwise), and what for. */
  consumers: Partial<Record<HubApp, string>>;
}

const POSITIVE_ID = '^[1-9][0-9]*$';
const APP_OF_DOMAIN: Record<Domain, HubApp> = {
  splynx: 'splynx-sync',
  accounting: 'accounting-sync',
  crm: 'crm-sync',
  usage: 'usage-sync',
};

/** A loyalty-club table's change events (one topic per table: change-events.ts, LOYALTY_CHANGE_TOPICS). */
function loyaltyTopic(table: string, name: string, immutable = false): TopicContract {
  return {
    summary: `A row of the loyalty club's \`${table}\` table the hub created or updated, with the source row.`,
    description:
      'Compacted: a consumer that reads it from the beginning gets the latest state of every row. One event per row a ' +
      'cp.export or cp.reconcile round stored new or changed (changedFields: the source columns that differ; every ' +
      'column when created); an unchanged row sends nothing, and the export never deletes a row. `record` is the ' +
      "row as the loyalty club's export API answers it (docs/cp-export-api.md). Sent through the crm-sync outbox " +
      'after the round commits. Off with CHANGE_EVENTS without crm.' +
      (immutable
        ? ' The source table is an immutable log: its rows are created; a row corrected upstream nonetheless is ' +
          "sent as updated, as any table's."
        : ''),
    key: { type: 'string', description: "The row's primary key in the source table.", pattern: POSITIVE_ID },
    messages: [
      {
        name,
        title: `crm.loyalty.${table}.changed`,
        summary: `A \`${table}\` row changed.`,
        payloadClass: LoyaltyRowChangedPayload,
        example: () => examples.loyaltyRowChangedExample(table),
      },
    ],
    producers: { 'crm-sync': 'cp.export and cp.reconcile runs, per table round after its commit' },
    consumers: {},
  };
}

function tickTopic(domain: Domain, name: string): TopicContract {
  return {
    summary: `Ticks of the ${domain} jobs: run this job now.`,
    description:
      `One message per run to start: the scheduler's due schedules and manual runs (API, dashboard). ` +
      `A scheduled tick's runId is derived from (scheduleId, scheduledFor), so a tick published twice is one run; ` +
      `a tick read after its deadline is recorded skipped (stale).`,
    key: {
      type: 'string',
      description: `<companyId>:${domain}:<job> (jobKey): one job's ticks stay on one partition, in order.`,
      pattern: `^[1-9][0-9]*:${domain}:[a-z0-9._-]+$`,
    },
    messages: [
      {
        name,
        title: `sync.${domain}.requested`,
        summary: `Run one ${domain} job for one company.`,
        payloadClass: SyncRequestedPayload,
        example: () => examples.tickExample(domain),
      },
    ],
    producers: {
      scheduler: 'due schedules, catch-up ticks and POST /api/schedules/{id}/run',
      gateway: 'POST /api/syncs/{domain}/{job}/run (manual runs, trigger manual)',
    },
    consumers: { [APP_OF_DOMAIN[domain]]: 'runs the job and publishes its run events' },
  };
}

const RUN_EVENT_PRODUCERS: Partial<Record<HubApp, string>> = {
  'splynx-sync': 'the runs of its ticks',
  'accounting-sync': 'the runs of its ticks',
  'crm-sync': 'the runs of its ticks',
  'usage-sync': 'the runs of its ticks',
  cli: 'runs started from the command line (trigger cli)',
};

function runEventTopic(
  topic: Topic,
  name: string,
  what: string,
  extra: Partial<Record<HubApp, string>> = {},
): TopicContract {
  const event = topic.replace(/^sync\.run\.|\.v1$/g, '');
  return {
    summary: `A run ${what}.`,
    description:
      `Run lifecycle: started, then completed or failed; skipped instead of started when the run does not happen. ` +
      `Events of a later attempt (attempt ≥ 2, after a takeover) supersede those of earlier attempts.`,
    key: { type: 'string', description: "runId: one run's events stay on one partition, in order.", format: 'uuid' },
    messages: [
      {
        name,
        title: `sync.run.${event}`,
        summary: `A run ${what}.`,
        payloadClass: RunEventPayload,
        example: () => examples.runEventExample(topic),
      },
    ],
    producers: { ...RUN_EVENT_PRODUCERS, ...extra },
    consumers: { gateway: 'run history, status, notifications (email, webhook) and the dashboard' },
  };
}

export const TOPIC_CONTRACTS: Record<Topic, TopicContract> = {
  [Topic.SplynxRequested]: tickTopic('splynx', 'SplynxRequested'),
  [Topic.AccountingRequested]: tickTopic('accounting', 'AccountingRequested'),
  [Topic.CrmRequested]: tickTopic('crm', 'CrmRequested'),
  [Topic.UsageRequested]: tickTopic('usage', 'UsageRequested'),
  [Topic.RunStarted]: runEventTopic(Topic.RunStarted, 'RunStarted', 'started'),
  [Topic.RunCompleted]: runEventTopic(Topic.RunCompleted, 'RunCompleted', 'completed (with its stats and warnings)'),
  [Topic.RunFailed]: runEventTopic(Topic.RunFailed, 'RunFailed', 'failed (with its classified error)'),
  [Topic.RunSkipped]: runEventTopic(Topic.RunSkipped, 'RunSkipped', 'was skipped (overlap, stale, paused or missed)', {
    scheduler: 'slots missed beyond the catch-up window (skipReason missed)',
  }),
  [Topic.RobawsWebhookReceived]: {
    summary: 'A signed Robaws webhook delivery the gateway accepted.',
    description:
      'The full client record Robaws sent; crm-sync stores it unless a version at least as new is stored already. ' +
      'A redelivery carries the same deliveryId.',
    key: {
      type: 'string',
      description: "The Robaws client id: one client's events stay in order.",
      pattern: POSITIVE_ID,
    },
    messages: [
      {
        name: 'RobawsWebhookReceived',
        title: 'crm.robaws.webhook.received',
        summary: 'A Robaws client was created or updated.',
        payloadClass: RobawsWebhookReceivedPayload,
        example: examples.robawsWebhookExample,
      },
    ],
    producers: { gateway: 'POST /api/webhooks/robaws/customers, once the signature checks out (through its outbox)' },
    consumers: { 'crm-sync': 'writes the client into its Robaws customer cache' },
  },
  [Topic.ScheduleChanged]: {
    summary: "A schedule's whole state after a change, or a tombstone when it was deleted.",
    description:
      'Compacted: the latest message of a key is the schedule, so reading the topic from the beginning rebuilds every ' +
      'schedule. A deleted schedule is a tombstone (a null value) under its key.',
    key: { type: 'string', description: 'The schedule id.', pattern: POSITIVE_ID },
    messages: [
      {
        name: 'ScheduleChanged',
        title: 'scheduler.schedule.changed',
        summary: 'A schedule was created or changed (its whole row).',
        payloadClass: ScheduleChangedPayload,
        example: examples.scheduleChangedExample,
      },
      {
        name: 'ScheduleDeleted',
        title: 'tombstone',
        summary: 'A schedule was deleted: a null value under its key.',
        payloadClass: null,
        example: examples.scheduleDeletedExample,
      },
    ],
    producers: { scheduler: 'every schedule change, through its outbox' },
    consumers: { gateway: 'its schedule projection (status, next runs, the dashboard)' },
  },
  [Topic.SettingChanged]: {
    summary: 'A setting as it stands after a change.',
    description:
      'Compacted: the latest message of a key is the setting. Also sent for every setting (stored or default) when a ' +
      'scheduler replica starts leading. A tombstone under a key would delete the setting from projections.',
    key: { type: 'string', description: 'The setting key.', minLength: 1, maxLength: 128 },
    messages: [
      {
        name: 'SettingChanged',
        title: 'scheduler.setting.changed',
        summary: 'A setting was set, or announced by a new leader.',
        payloadClass: SettingChangedPayload,
        example: examples.settingChangedExample,
      },
    ],
    producers: { scheduler: 'every setting change, and all settings when a replica starts leading' },
    consumers: { gateway: 'its setting projection' },
  },
  [Topic.CompanyChanged]: {
    summary: "A company's whole state after a change.",
    description:
      'Compacted: the latest message of a key is the company. Companies are deactivated (active false), never ' +
      'deleted, so the scheduler sends no tombstones; a consumer treats one as a deletion.',
    key: { type: 'string', description: 'The company id.', pattern: POSITIVE_ID },
    messages: [
      {
        name: 'CompanyChanged',
        title: 'scheduler.company.changed',
        summary: 'A company was created or changed (its whole row).',
        payloadClass: CompanyChangedPayload,
        example: examples.companyChangedExample,
      },
    ],
    producers: { scheduler: 'every company change, through its outbox' },
    consumers: { 'accounting-sync': 'its company projection (time zones of the accounting date ranges)' },
  },
  [Topic.SplynxCustomerChanged]: {
    summary: 'A Splynx customer the hub created, updated or deactivated, with its stored record.',
    description:
      'Compacted: a consumer that reads it from the beginning gets the latest state of every customer. One event per ' +
      'customer a sync page created or changed (changedFields: the record fields that differ; every field when ' +
      'created) and per customer a complete full sync deactivated; an unchanged customer sends nothing. Sent through ' +
      'the outbox after the page commits, so a crash loses none; a redelivery repeats the same state. Off with ' +
      'CHANGE_EVENTS without splynx.',
    key: {
      type: 'string',
      description: "The customer's Splynx id: one customer's changes stay in order.",
      pattern: POSITIVE_ID,
    },
    messages: [
      {
        name: 'SplynxCustomerChanged',
        title: 'splynx.customer.changed',
        summary: 'A Splynx customer changed.',
        payloadClass: SplynxCustomerChangedPayload,
        example: examples.splynxCustomerChangedExample,
      },
    ],
    producers: { 'splynx-sync': 'customers and customers.full runs, per page after its commit' },
    consumers: {},
  },
  [Topic.RobawsCustomerChanged]: {
    summary: 'A Robaws customer the hub created, updated or marked deleted upstream, with its stored record.',
    description:
      'Compacted: a consumer that reads it from the beginning gets the latest state of every customer. One event per ' +
      'customer a pull (incremental, full, or one client), a webhook delivery or a push stored new or changed ' +
      '(changedFields: the record fields that differ; every field when created), and per customer found gone from ' +
      'Robaws (changeType deactivated, deleted_upstream true). An unchanged customer sends nothing; a local edit ' +
      "made through the API sends its event when it is pushed, its changedFields against Robaws's version from " +
      'before the edit. runId is null for a webhook delivery. Sent through ' +
      'the crm-sync outbox after the write commits. Off with CHANGE_EVENTS without crm.',
    key: {
      type: 'string',
      description: "The customer's Robaws client id: one customer's changes stay in order.",
      pattern: POSITIVE_ID,
    },
    messages: [
      {
        name: 'RobawsCustomerChanged',
        title: 'crm.robaws.customer.changed',
        summary: 'A Robaws customer changed.',
        payloadClass: RobawsCustomerChangedPayload,
        example: examples.robawsCustomerChangedExample,
      },
    ],
    producers: {
      'crm-sync': 'robaws.customers.* runs per batch after its commit, webhook deliveries, one-client syncs and pushes',
    },
    consumers: {},
  },
  [Topic.AccountingDocumentChanged]: {
    summary: 'A DevPos document the hub stored, synced to QuickBooks, or failed to sync, with its stored record.',
    description:
      'Compacted: a consumer that reads it from the beginning gets the latest state of every document. One event when ' +
      'a sales, bills, full or retry run first stores a document (created: pending before its batch is sent to ' +
      'QuickBooks, or skipped, or failed when DevPos does not give it) and one for each later commit that changes ' +
      'its record (updated): synced to QuickBooks, updated there, failed (status failed and last_error), or its PDF ' +
      'attached; a new document typically sends three (pending, synced, attached). A document is never ' +
      'deactivated. An unchanged document sends nothing. Sent through the accounting-sync outbox after the write ' +
      'commits. Off with CHANGE_EVENTS without accounting.',
    key: {
      type: 'string',
      description: "<company_id>:<eic>: the company and DevPos's id of the document (its EIC).",
      pattern: '^[1-9][0-9]*:.+$',
    },
    messages: [
      {
        name: 'AccountingDocumentChanged',
        title: 'accounting.document.changed',
        summary: 'An accounting document changed.',
        payloadClass: AccountingDocumentChangedPayload,
        example: examples.accountingDocumentChangedExample,
      },
    ],
    producers: { 'accounting-sync': 'sales, bills and full runs and document retries, per write after its commit' },
    consumers: {},
  },
  [Topic.LoyaltyClientsChanged]: loyaltyTopic('clients', 'LoyaltyClientsChanged'),
  [Topic.LoyaltyClientAbonnementsChanged]: loyaltyTopic('client_abonnements', 'LoyaltyClientAbonnementsChanged'),
  [Topic.LoyaltyHistoriesChanged]: loyaltyTopic('histories', 'LoyaltyHistoriesChanged', true),
  [Topic.LoyaltyPromotionPassOrdersChanged]: loyaltyTopic('promotion_pass_orders', 'LoyaltyPromotionPassOrdersChanged'),
  [Topic.LoyaltyPromotionPassVendusChanged]: loyaltyTopic('promotion_pass_vendus', 'LoyaltyPromotionPassVendusChanged'),
  [Topic.LoyaltyPartnersChanged]: loyaltyTopic('partners', 'LoyaltyPartnersChanged'),
  [Topic.LoyaltyPromotionsChanged]: loyaltyTopic('promotions', 'LoyaltyPromotionsChanged'),
  [Topic.UsageConfigUpdated]: {
    summary: "A reseller config's traffic usage changed in a sync (bytes).",
    description:
      'delta is negative after a panel-side reset; limit and percent are null for a config without a limit. Sent in ' +
      "the same transaction as the usage it reports (the usage-sync outbox). It is the usage domain's change event " +
      '(issue 16): off with CHANGE_EVENTS without usage. No app of the hub reads it yet.',
    key: {
      type: 'string',
      description: "The reseller config id: one config's changes stay in order.",
      pattern: POSITIVE_ID,
    },
    messages: [
      {
        name: 'UsageConfigUpdated',
        title: 'usage.config.updated',
        summary: "A config's usage changed.",
        payloadClass: UsageConfigUpdatedPayload,
        example: examples.usageConfigUpdatedExample,
      },
    ],
    producers: { 'usage-sync': 'reseller.usage runs, for every config whose usage changed' },
    consumers: {},
  },
  [Topic.UsageLimitCrossed]: {
    summary: "A reseller config's usage reached 80 % or 100 % of its traffic limit.",
    description:
      'Once per crossing: sent again only after the usage dropped below the threshold (a panel-side reset). An alert, ' +
      'not a change event: CHANGE_EVENTS does not stop it. No app of the hub reads it yet.',
    key: { type: 'string', description: 'The reseller config id.', pattern: POSITIVE_ID },
    messages: [
      {
        name: 'UsageLimitCrossed',
        title: 'usage.limit.crossed',
        summary: 'A config crossed a threshold of its limit.',
        payloadClass: UsageLimitCrossedPayload,
        example: examples.usageLimitCrossedExample,
      },
    ],
    producers: { 'usage-sync': 'reseller.usage runs, once per threshold crossed' },
    consumers: {},
  },
};
