import { getMetadataStorage } from 'class-validator';
import { EnvironmentVariables } from './env.dto';

export type EnvironmentVariableName = Extract<keyof EnvironmentVariables, string>;

/**
 * Every variable the hub reads, taken from the validation metadata of EnvironmentVariables (each property carries
 * at least @IsOptional), so a variable added to the DTO is known here without a second list.
 */
export function environmentVariableNames(): EnvironmentVariableName[] {
  const metadata = getMetadataStorage().getTargetValidationMetadatas(EnvironmentVariables, '', true, false);
  return [...new Set(metadata.map((m) => m.propertyName as EnvironmentVariableName))].sort();
}

export interface RequiredVariable {
  name: EnvironmentVariableName;
  /** Required only where this variable is set too. */
  when?: EnvironmentVariableName;
  /** Where the requirement comes from, for the message that names a missing variable. */
  why: string;
}

/** The apps a cluster runs: the long-running ones and the CLI, whose commands run as Jobs. */
export const DEPLOYED_APPS = [
  'gateway',
  'scheduler',
  'splynx-sync',
  'accounting-sync',
  'crm-sync',
  'usage-sync',
  'cli',
] as const;
export type DeployedApp = (typeof DEPLOYED_APPS)[number];

const EVERY_APP: readonly RequiredVariable[] = [
  { name: 'KAFKA_BROKERS', why: 'it selects the distributed mode; without it the app runs on the in-process bus' },
  { name: 'DATABASE_URL', why: 'loadConfig refuses the distributed mode without it (it runs on MySQL/MariaDB)' },
  { name: 'SPLYNX_API_KEY', when: 'SPLYNX_URL', why: 'loadConfig refuses SPLYNX_URL without SPLYNX_API_KEY' },
  { name: 'SPLYNX_API_SECRET', when: 'SPLYNX_URL', why: 'loadConfig refuses SPLYNX_URL without SPLYNX_API_SECRET' },
  { name: 'ROBAWS_API_KEY', when: 'ROBAWS_URL', why: 'loadConfig refuses ROBAWS_URL without ROBAWS_API_KEY' },
  { name: 'ROBAWS_API_SECRET', when: 'ROBAWS_URL', why: 'loadConfig refuses ROBAWS_URL without ROBAWS_API_SECRET' },
  { name: 'CP_EXPORT_TOKEN', when: 'CP_EXPORT_URL', why: 'loadConfig refuses CP_EXPORT_URL without CP_EXPORT_TOKEN' },
  { name: 'CP_EXPORT_TOKEN', when: 'CP_VISIT_URL', why: 'loadConfig refuses CP_VISIT_URL without CP_EXPORT_TOKEN' },
];

/** gateway, scheduler and the sync apps with an API serve /api, and ApiKeysRequired stops them at start without keys. */
const SERVES_API: RequiredVariable = {
  name: 'GATEWAY_API_KEYS',
  why: 'an app serving /api refuses to start without keys (ApiKeysRequired)',
};

/** Apps that read or write stored secrets (connection tokens and passwords, panel credentials) need their key. */
const HOLDS_SECRETS: RequiredVariable = {
  name: 'SECRETS_KEY',
  why: 'stored secrets are encrypted with it; the distributed mode never generates one',
};

/**
 * What each app needs set in the distributed mode, mirroring loadConfig and ApiKeysRequired. SCHEDULER_URL is not
 * enforced at start, but its default (localhost:3001) is the gateway's own pod in a cluster.
 */
export const DISTRIBUTED_MODE_REQUIREMENTS: Readonly<Record<DeployedApp, readonly RequiredVariable[]>> = {
  gateway: [
    ...EVERY_APP,
    SERVES_API,
    { name: 'SCHEDULER_URL', why: 'its default, http://localhost:3001, is not the scheduler in a cluster' },
    {
      name: 'ACCOUNTING_SYNC_URL',
      why: 'its default, http://localhost:3003, is not accounting-sync in a cluster',
    },
    { name: 'CRM_SYNC_URL', why: 'its default, http://localhost:3004, is not crm-sync in a cluster' },
    { name: 'USAGE_SYNC_URL', why: 'its default, http://localhost:3005, is not usage-sync in a cluster' },
  ],
  scheduler: [...EVERY_APP, SERVES_API],
  'splynx-sync': EVERY_APP,
  'accounting-sync': [...EVERY_APP, SERVES_API, HOLDS_SECRETS],
  'crm-sync': EVERY_APP,
  'usage-sync': [...EVERY_APP, SERVES_API, HOLDS_SECRETS],
  cli: [...EVERY_APP, HOLDS_SECRETS],
};

export function isDeployedApp(app: string): app is DeployedApp {
  return (DEPLOYED_APPS as readonly string[]).includes(app);
}

/** The requirements of `app` in the distributed mode that `setNames` leaves unmet. */
export function missingDistributedVariables(app: DeployedApp, setNames: Iterable<string>): RequiredVariable[] {
  const set = new Set(setNames);
  return DISTRIBUTED_MODE_REQUIREMENTS[app].filter((r) => !set.has(r.name) && (!r.when || set.has(r.when)));
}
