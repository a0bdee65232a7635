/** Every topic the hub uses, versioned. Topics are provisioned by the project, never auto-created. */
export enum Topic {
  SplynxRequested = 'sync.splynx.requested.v1',
  AccountingRequested = 'sync.accounting.requested.v1',
  CrmRequested = 'sync.crm.requested.v1',
  UsageRequested = 'sync.usage.requested.v1',
  RunStarted = 'sync.run.started.v1',
  RunCompleted = 'sync.run.completed.v1',
  RunFailed = 'sync.run.failed.v1',
  RunSkipped = 'sync.run.skipped.v1',
  RobawsWebhookReceived = 'crm.robaws.webhook.received.v1',
  ScheduleChanged = 'scheduler.schedule.changed.v1',
  SettingChanged = 'scheduler.setting.changed.v1',
  CompanyChanged = 'scheduler.company.changed.v1',
  UsageConfigUpdated = 'usage.config.updated.v1',
  UsageLimitCrossed = 'usage.limit.crossed.v1',
  /** Record-level change events (issue 16; change-events.ts): compacted, keyed by the record's upstream id. */
  SplynxCustomerChanged = 'splynx.customer.changed.v1',
  RobawsCustomerChanged = 'crm.robaws.customer.changed.v1',
  AccountingDocumentChanged = 'accounting.document.changed.v1',
  /** One topic per loyalty-club table (change-events.ts, LOYALTY_CHANGE_TOPICS). */
  LoyaltyClientsChanged = 'crm.loyalty.clients.changed.v1',
  LoyaltyClientAbonnementsChanged = 'crm.loyalty.client_abonnements.changed.v1',
  LoyaltyHistoriesChanged = 'crm.loyalty.histories.changed.v1',
  LoyaltyPromotionPassOrdersChanged = 'crm.loyalty.promotion_pass_orders.changed.v1',
  LoyaltyPromotionPassVendusChanged = 'crm.loyalty.promotion_pass_vendus.changed.v1',
  LoyaltyPartnersChanged = 'crm.loyalty.partners.changed.v1',
  LoyaltyPromotionsChanged = 'crm.loyalty.promotions.changed.v1',
}

export const ALL_TOPICS: Topic[] = Object.values(Topic);

/**
 * Topics that carry the latest state per key rather than a history (`cleanup.policy=compact`): a consumer that reads one
 * from the beginning rebuilds the whole state. A null value (a tombstone) deletes its key. Their `.dlq` is not compacted.
 */
export const COMPACTED_TOPICS: readonly Topic[] = [
  Topic.ScheduleChanged,
  Topic.SettingChanged,
  Topic.CompanyChanged,
  Topic.SplynxCustomerChanged,
  Topic.RobawsCustomerChanged,
  Topic.AccountingDocumentChanged,
  Topic.LoyaltyClientsChanged,
  Topic.LoyaltyClientAbonnementsChanged,
  Topic.LoyaltyHistoriesChanged,
  Topic.LoyaltyPromotionPassOrdersChanged,
  Topic.LoyaltyPromotionPassVendusChanged,
  Topic.LoyaltyPartnersChanged,
  Topic.LoyaltyPromotionsChanged,
];

export function deadLetterTopic(topic: string): string {
  return `${topic}.dlq`;
}

export const DOMAINS = ['splynx', 'accounting', 'crm', 'usage'] as const;
export type Domain = (typeof DOMAINS)[number];

/**
 * The job names each domain knows (DESIGN.md section 3): the vocabulary ticks and schedules are validated against.
 * Which of them this version can run is the job registry (`JOB_REGISTRY`). `ping` does no upstream work.
 */
export const JOBS_BY_DOMAIN: Record<Domain, readonly string[]> = {
  splynx: ['customers', 'customers.full', 'ping'],
  accounting: ['sales', 'bills', 'full', 'accounting.connections.check', 'ping'],
  crm: [
    'robaws.customers.incremental',
    'robaws.customers.full',
    'robaws.customers.push',
    'cp.export',
    'cp.reconcile',
    'cp.visit',
    'ping',
  ],
  usage: ['reseller.usage', 'ping'],
};

const REQUESTED_TOPICS: Record<Domain, Topic> = {
  splynx: Topic.SplynxRequested,
  accounting: Topic.AccountingRequested,
  crm: Topic.CrmRequested,
  usage: Topic.UsageRequested,
};

export function requestedTopic(domain: Domain): Topic {
  return REQUESTED_TOPICS[domain];
}

/**
 * The key of one job of one company, `<companyId>:<domain>:<job>`: its ticks' message key (one partition, in order),
 * its lease, its notification state and its status row.
 */
export function jobKey(companyId: number, domain: string, job: string): string {
  return `${companyId}:${domain}:${job}`;
}
