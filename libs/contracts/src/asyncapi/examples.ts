import { v5 as uuidv5 } from 'uuid';
import {
  accountingDocumentKey,
  AccountingDocumentChangedPayload,
  changeEventMessage,
  LOYALTY_CHANGE_TOPICS,
  LoyaltyRowChangedPayload,
  RobawsCustomerChangedPayload,
  SplynxCustomerChangedPayload,
} from '../change-events';
import { companyChangedMessage } from '../company-changed';
import { EventEnvelope } from '../envelope';
import { robawsWebhookReceivedMessage } from '../robaws-webhook-received';
import { RunEventFields, runEventMessage } from '../run-events';
import { scheduleChangedMessage, scheduleDeletedMessage } from '../schedule-changed';
import { settingChangedMessage } from '../setting-changed';
import { scheduledRunId, SyncRequestedPayload, tickMessage } from '../sync-requested';
import { Domain, JOBS_BY_DOMAIN, Topic } from '../topics';
import { usageConfigUpdatedMessage, usageLimitCrossedMessage } from '../usage-events';

/**
 * The examples of the document, built with the contracts' own message functions (so they cannot drift from what the
 * apps send), with fixed ids and times so the document is the same on every run.
 */
export interface ExampleRecord {
  /** The topic the message function chose (checked against the channel), when it chooses one. */
  topic?: string;
  key: string;
  /** The envelope, or null for a tombstone. */
  value: EventEnvelope<object> | null;
}

const EXAMPLE_NAMESPACE = '0f5b8f3e-3c1e-4d55-9d7e-2b8f7a6c1e90';
const SCHEDULE_ID = 12;
const SLOT = new Date('2026-11-21T06:00:00.000Z');
const AT = (seconds: number) => new Date(SLOT.getTime() + seconds * 1000);

/** The record with a fixed envelope id (derived from the example's name) and time in place of the random ones. */
function fixed(name: string, record: { topic?: string; key: string; value: unknown }, occurredAt: Date): ExampleRecord {
  const value = record.value as EventEnvelope<object>;
  return {
    ...(record.topic ? { topic: record.topic } : {}),
    key: record.key,
    value: { ...value, id: uuidv5(name, EXAMPLE_NAMESPACE), occurredAt: occurredAt.toISOString() },
  };
}

/** A scheduled tick of the domain's first job, for company 1. */
export function exampleTick(domain: Domain): SyncRequestedPayload {
  return {
    runId: scheduledRunId(String(SCHEDULE_ID), SLOT),
    domain,
    job: JOBS_BY_DOMAIN[domain][0],
    companyId: 1,
    scheduleId: String(SCHEDULE_ID),
    trigger: 'schedule',
    scheduledFor: SLOT.toISOString(),
    deadline: AT(3600).toISOString(),
  };
}

export function tickExample(domain: Domain): ExampleRecord {
  return fixed(`tick.${domain}`, tickMessage(exampleTick(domain)), SLOT);
}

const RUN_EVENT_FIELDS: Record<string, RunEventFields> = {
  [Topic.RunStarted]: { startedAt: AT(1) },
  [Topic.RunCompleted]: {
    startedAt: AT(1),
    finishedAt: AT(43),
    stats: { fetched: 120, created: 3, updated: 5, unchanged: 112, skipped: 0, failed: 0 },
  },
  [Topic.RunFailed]: {
    startedAt: AT(1),
    finishedAt: AT(31),
    stats: { fetched: 40, created: 0, updated: 2, unchanged: 38, skipped: 0, failed: 0 },
    error: {
      code: 'UPSTREAM_UNAVAILABLE',
      message: 'Splynx answered 503 Service Unavailable after 3 tries',
      retriable: true,
      origin: 'source',
    },
  },
  [Topic.RunSkipped]: { startedAt: AT(1), skipReason: 'overlap' },
};

export function runEventExample(topic: Topic): ExampleRecord {
  const fields = RUN_EVENT_FIELDS[topic];
  return fixed(topic, runEventMessage(topic, exampleTick('splynx'), fields), fields.finishedAt ?? fields.startedAt);
}

export function robawsWebhookExample(): ExampleRecord {
  const receivedAt = AT(5);
  const data = { id: 4711, name: 'Acme BV', email: 'info@acme.example', vatNumber: 'BE0123456749' };
  return fixed(
    Topic.RobawsWebhookReceived,
    robawsWebhookReceivedMessage(
      { id: 'dlv-20261121-0001', event: 'client.updated', clientId: 4711, data },
      receivedAt,
    ),
    receivedAt,
  );
}

export function scheduleChangedExample(): ExampleRecord {
  const message = scheduleChangedMessage({
    id: SCHEDULE_ID,
    companyId: 1,
    domain: 'splynx',
    jobType: 'customers',
    frequency: 'hourly',
    intervalMinutes: null,
    intervalSetting: null,
    minute: 0,
    hourOfDay: null,
    dayOfWeek: null,
    dayOfMonth: null,
    timezone: 'Europe/Tirane',
    dateRangeDays: null,
    enabled: true,
    pausedReason: null,
    overlapPolicy: 'skip',
    catchupWindowS: 3600,
    lastRunAt: SLOT.toISOString(),
    nextRunAt: AT(3600).toISOString(),
    createdAt: '2026-01-05T09:00:00.000Z',
    updatedAt: AT(2).toISOString(),
  });
  return fixed(Topic.ScheduleChanged, message, AT(2));
}

export function scheduleDeletedExample(): ExampleRecord {
  return scheduleDeletedMessage(SCHEDULE_ID);
}

export function settingChangedExample(): ExampleRecord {
  const message = settingChangedMessage({ key: 'reseller.usage_sync_interval_minutes', value: 5, effectiveValue: 5 });
  return fixed(Topic.SettingChanged, message, AT(2));
}

export function companyChangedExample(): ExampleRecord {
  const message = companyChangedMessage({
    id: 1,
    name: 'Company 1',
    timezone: 'Europe/Tirane',
    active: true,
    createdAt: '2026-01-05T09:00:00.000Z',
    updatedAt: AT(2).toISOString(),
  });
  return fixed(Topic.CompanyChanged, message, AT(2));
}

const USAGE_RUN_ID = scheduledRunId('7', SLOT);

export function usageConfigUpdatedExample(): ExampleRecord {
  const payload = {
    configId: 301,
    resellerId: 3,
    previous: 40_000_000_000,
    current: 43_500_000_000,
    delta: 3_500_000_000,
    limit: 50_000_000_000,
    percent: 87,
  };
  return fixed(Topic.UsageConfigUpdated, usageConfigUpdatedMessage(payload, USAGE_RUN_ID, AT(20)), AT(20));
}

export function usageLimitCrossedExample(): ExampleRecord {
  const payload = {
    configId: 301,
    resellerId: 3,
    threshold: 80 as const,
    usage: 43_500_000_000,
    limit: 50_000_000_000,
  };
  return fixed(Topic.UsageLimitCrossed, usageLimitCrossedMessage(payload, USAGE_RUN_ID, AT(20)), AT(20));
}

const SPLYNX_RUN_ID = scheduledRunId('3', SLOT);

export function splynxCustomerChangedExample(): ExampleRecord {
  const change: SplynxCustomerChangedPayload = {
    changeType: 'updated',
    id: '1042',
    runId: SPLYNX_RUN_ID,
    occurredAt: AT(30).toISOString(),
    changedFields: ['email', 'lastUpdate'],
    record: {
      splynxId: 1042,
      login: 'jdoe',
      name: 'Jane Doe',
      email: 'jane.doe@example.com',
      phone: '+32470123456',
      status: 'active',
      category: 'person',
      billingType: 'recurring',
      partnerId: 1,
      locationId: 2,
      dateAdd: '2024-03-05',
      lastUpdate: '2026-11-21T05:58:12.000Z',
      active: true,
    },
  };
  return fixed(Topic.SplynxCustomerChanged, changeEventMessage(Topic.SplynxCustomerChanged, change), AT(30));
}

const CRM_RUN_ID = scheduledRunId('5', SLOT);

export function robawsCustomerChangedExample(): ExampleRecord {
  const change: RobawsCustomerChangedPayload = {
    changeType: 'updated',
    id: '2077',
    runId: CRM_RUN_ID,
    occurredAt: AT(40).toISOString(),
    changedFields: ['tel', 'phone', 'upstream_updated_at'],
    record: {
      robaws_id: 2077,
      name: 'Bakkerij Peeters BV',
      role: 'customer',
      email: 'info@peeters.example',
      tel: '+3232123456',
      gsm: null,
      phone: '+3232123456',
      website: 'peeters.example',
      address_line1: 'Kerkstraat 12',
      address_line2: null,
      postal_code: '2000',
      city: 'Antwerpen',
      country: 'BE',
      vat_number: 'BE0123456749',
      vat_valid: true,
      currency: 'EUR',
      language: 'nl',
      is_active: true,
      deleted_upstream: false,
      upstream_updated_at: '2026-11-21T05:57:40.000Z',
    },
  };
  return fixed(Topic.RobawsCustomerChanged, changeEventMessage(Topic.RobawsCustomerChanged, change), AT(40));
}

const ACCOUNTING_RUN_ID = scheduledRunId('7', SLOT);

export function accountingDocumentChangedExample(): ExampleRecord {
  const eic = '6f2c1e0a-8b7d-4c3e-9a51-2d4f6b8c0e13';
  const change: AccountingDocumentChangedPayload = {
    changeType: 'updated',
    id: accountingDocumentKey(1, eic),
    runId: ACCOUNTING_RUN_ID,
    occurredAt: AT(50).toISOString(),
    changedFields: ['attachment_status', 'attachment_id'],
    record: {
      company_id: 1,
      source: 'devpos',
      eic,
      document_number: '118/2026',
      type: 'sales',
      txn_date: '2026-11-20',
      currency: 'ALL',
      status: 'synced',
      qbo_entity: 'Invoice',
      qbo_id: '4711',
      sync_token: '0',
      generation: 0,
      last_error: null,
      attachment_status: 'attached',
      attachment_id: '5120',
      attachment_warning: null,
    },
  };
  return fixed(Topic.AccountingDocumentChanged, changeEventMessage(Topic.AccountingDocumentChanged, change), AT(50));
}

/** A row of each loyalty-club table, as its export API answers it (docs/cp-export-api.md). */
const LOYALTY_ROWS: Record<string, { key: string; row: Record<string, unknown>; changed?: string[] }> = {
  clients: {
    key: 'client_id',
    row: {
      client_id: 1201,
      nom: 'Martin',
      prenom: 'Claire',
      email: 'claire.martin@example.fr',
      telephone: '06 12 34 56 78',
      ville: 'Nice',
      code_postal: '06000',
      date_naissance: '1988-04-17',
      points: 340,
      created_at: '2025-02-03 10:12:00',
      updated_at: '2026-11-21 05:55:10',
      newsletter: 1,
    },
    changed: ['points', 'updated_at'],
  },
  client_abonnements: {
    key: 'client_abonnement_id',
    row: {
      client_abonnement_id: 88,
      client_id: 1201,
      formule: 'Essentiel',
      montant: '49.90',
      date_debut: '2026-01-01',
      date_fin: '2026-12-31',
      statut: 'actif',
      created_at: '2025-12-20 09:00:00',
      updated_at: '2026-11-21 05:50:00',
    },
    changed: ['statut', 'updated_at'],
  },
  histories: {
    key: 'history_id',
    row: {
      history_id: 90412,
      client_id: 1201,
      type: 'achat',
      description: 'Achat en magasin',
      points: 25,
      created_at: '2026-11-21 05:41:00',
      meta: { canal: 'caisse', partner_id: 12 },
    },
  },
  promotion_pass_orders: {
    key: 'id',
    row: {
      id: 5003,
      client_id: 1201,
      promotion_id: 14,
      quantite: 2,
      montant_total: '30.00',
      statut: 'payee',
      created_at: '2026-11-20 18:03:00',
      updated_at: '2026-11-21 05:58:00',
    },
    changed: ['statut', 'updated_at'],
  },
  promotion_pass_vendus: {
    key: 'id',
    row: {
      id: 7710,
      order_id: 5003,
      promotion_id: 14,
      code: 'PASS-7710-QX',
      utilise: 1,
      date_utilisation: '2026-11-21 05:40:00',
      created_at: '2026-11-20 18:03:05',
      updated_at: '2026-11-21 05:40:00',
    },
    changed: ['utilise', 'date_utilisation', 'updated_at'],
  },
  partners: {
    key: 'partner_id',
    row: {
      partner_id: 12,
      nom: 'Boulangerie du Port',
      categorie: 'alimentation',
      ville: 'Nice',
      email: null,
      telephone: '04 93 00 00 00',
      actif: 1,
      created_at: '2024-06-01 08:00:00',
      updated_at: '2026-11-21 05:30:00',
    },
    changed: ['telephone', 'updated_at'],
  },
  promotions: {
    key: 'promotion_id',
    row: {
      promotion_id: 14,
      partner_id: 12,
      titre: 'Deux viennoiseries offertes',
      description: 'Pour 2 pass achetés, deux viennoiseries offertes.',
      reduction_pct: 20,
      date_debut: '2026-11-01',
      date_fin: '2026-11-30',
      actif: 1,
      created_at: '2026-10-25 14:00:00',
      updated_at: '2026-11-21 05:20:00',
    },
    changed: ['reduction_pct', 'updated_at'],
  },
};

export function loyaltyRowChangedExample(table: string): ExampleRecord {
  const sample = LOYALTY_ROWS[table];
  const topic = LOYALTY_CHANGE_TOPICS[table];
  if (!sample || !topic) throw new Error(`no loyalty example for the table ${table}`);
  const change: LoyaltyRowChangedPayload = {
    changeType: sample.changed ? 'updated' : 'created',
    id: String(sample.row[sample.key]),
    table,
    runId: CRM_RUN_ID,
    occurredAt: AT(45).toISOString(),
    changedFields: sample.changed ?? Object.keys(sample.row),
    record: sample.row,
  };
  return fixed(`${topic}`, changeEventMessage(topic, change), AT(45));
}
