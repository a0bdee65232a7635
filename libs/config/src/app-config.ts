import * as path from 'node:path';
import { plainToInstance } from 'class-transformer';
import { ValidationError, validateSync } from 'class-validator';
import { EnvironmentVariables } from './env.dto';

export type RunMode = 'embedded' | 'distributed';
export type SplynxAuthMode = 'api_key' | 'signature' | 'basic';
export type LogFormat = 'json' | 'pretty';

/** The domains that can publish change events (the contracts' DOMAINS; config does not import contracts). */
export const CHANGE_EVENT_DOMAINS = ['splynx', 'accounting', 'crm', 'usage'] as const;
export type ChangeEventDomain = (typeof CHANGE_EVENT_DOMAINS)[number];

/** CHANGE_EVENTS: `all` (or unset), `none`, or a comma-separated list of domains, each once. */
export function parseChangeEvents(value: string | undefined): ChangeEventDomain[] {
  const v = (value ?? 'all').trim();
  if (v === 'all') return [...CHANGE_EVENT_DOMAINS];
  if (v === 'none') return [];
  return [...new Set(v.split(',').map((d) => d.trim() as ChangeEventDomain))];
}

export type DatabaseConfig = { kind: 'mysql'; url: string } | { kind: 'sqlite'; file: string };

export interface KafkaConfig {
  brokers: string[];
  clientId: string;
  groupId: string;
  topicPartitions: number;
  replicationFactor: number;
}

/** Robaws (crm-sync, issue 11). */
export interface CrmConfig {
  robaws: {
    /** null: no upstream configured (the embedded host then starts the simulator). */
    baseUrl: string | null;
    apiKey: string;
    apiSecret: string;
    /** null: the one `robaws:webhooks:register` stored, if any. */
    webhookSecret: string | null;
    defaultCountry: string;
    pageSize: number;
    /** The client's pace (Robaws's bucket is 15/s, burst 20); 0: unpaced. */
    requestsPerSecond: number;
  };
  /** The loyalty-club export (crm-sync, issue 12; seed 002). */
  cp: {
    /** null: not configured (the embedded host then starts the simulator; the jobs fail as configuration errors). */
    exportUrl: string | null;
    visitUrl: string | null;
    token: string;
    /** CP_EXPORT_TIMEOUT, in ms: one request's limit. */
    timeoutMs: number;
    /** CP_EXPORT_RETRY_ATTEMPTS: attempts of one request in all (the first and its retries). */
    attempts: number;
    /** CP_EXPORT_RETRY_DELAY, in ms: the first step of the backoff between attempts. */
    retryDelayMs: number;
    /** CP_EXPORT_BATCH_LIMIT: the request's `limit`, rows per table per round. */
    batchLimit: number;
    /** CP_EXPORT_MAX_LOOPS: rounds a scheduled `cp.export` drains at most. */
    maxLoops: number;
  };
}

/** The VPN panel usage sync (usage-sync, issue 13; seed 004). */
export interface UsageConfig {
  /** USAGE_MAX_CONCURRENCY: panel reads in flight at once over all panels (each panel has its own cap too). */
  maxConcurrency: number;
  /** USAGE_PANEL_TIMEOUT, in ms: one panel request's limit. */
  panelTimeoutMs: number;
}

export interface AppConfig {
  appName: string;
  mode: RunMode;
  port: number;
  logLevel: string;
  /** `pretty` for people at a terminal, `json` for everything that reads logs. */
  logFormat: LogFormat;
  /** null in the embedded mode: the in-process bus is used. */
  kafka: KafkaConfig | null;
  maxDeliveryAttempts: number;
  /** SHUTDOWN_GRACE_MS: what runs in flight get to finish after SIGTERM (then they are interrupted). */
  shutdownGraceMs: number;
  database: DatabaseConfig;
  /** Keys the gateway accepts; empty when none was configured (the embedded host then generates one). */
  gatewayApiKeys: string[];
  /**
   * CHANGE_EVENTS (default `all`): the domains whose syncs publish record-level change events (issue 16). `none`
   * switches them all off.
   */
  changeEvents: ChangeEventDomain[];
  splynx: {
    /** null: no upstream configured (the embedded host then starts the simulator). */
    baseUrl: string | null;
    authMode: SplynxAuthMode;
    apiKey: string;
    apiSecret: string;
    pageSize: number;
    /** SPLYNX_TIMEZONE (default UTC): the zone of Splynx's `YYYY-MM-DD HH:MM:SS` times. */
    timeZone: string;
    /** SPLYNX_INCREMENTAL_OVERLAP_SECONDS (default 300): how far before the watermark an incremental run reads. */
    incrementalOverlapSeconds: number;
    /** SPLYNX_WRITE_CONCURRENCY (default 2): pages written at once, each on its own database connection. */
    writeConcurrency: number;
  };
  http: { timeoutMs: number; retries: number; retryBaseDelayMs: number; maxConcurrency: number };
  /** seedUsage: the embedded mode's VPN panel simulators and usage seed (EMBEDDED_SEED_USAGE, default true). */
  simulator: { splynxCustomers: number; seedUsage: boolean };
  dataDir: string;
  gateway: {
    /** The scheduler's API; in the embedded mode this process itself. */
    schedulerUrl: string;
    /** accounting-sync's API (connections, the QuickBooks callback); in the embedded mode this process itself. */
    accountingSyncUrl: string;
    /** crm-sync's API: the Robaws customers routes (embedded: this process). */
    crmSyncUrl: string;
    /** usage-sync's API: resellers, panels and reseller configs (embedded: this process). */
    usageSyncUrl: string;
    rateLimitPerMinute: number;
    /** Run history older than this is deleted daily, except each job's last success. */
    runHistoryRetentionDays: number;
  };
  notifications: {
    smtpUrl: string | null;
    emailTo: string[];
    emailFrom: string;
    webhookUrl: string | null;
  };
  accounting: AccountingConfig;
  crm: CrmConfig;
  usage: UsageConfig;
  scheduler: {
    /** `domain:job` pairs run once when the scheduler starts leading. */
    runOnStart: string[];
    leaderLeaseMs: number;
    clock: 'system' | 'manual';
    clockStart: Date | null;
  };
}

export const INTUIT = {
  authUrl: 'https://appcenter.intuit.com/connect/oauth2',
  tokenUrl: 'https://oauth.platform.intuit.com/oauth2/v1/tokens/bearer',
  revokeUrl: 'https://developer.api.intuit.com/v2/oauth2/tokens/revoke',
  apiBase: { production: 'https://quickbooks.api.intuit.com', sandbox: 'https://sandbox-quickbooks.api.intuit.com' },
} as const;

export interface AccountingConfig {
  /** 32 bytes; null when SECRETS_KEY is unset (the embedded mode then keeps a generated key in DATA_DIR). */
  secretsKey: Buffer | null;
  quickbooks: {
    clientId: string;
    clientSecret: string;
    redirectUri: string;
    environment: 'sandbox' | 'production';
    authUrl: string;
    tokenUrl: string;
    revokeUrl: string;
    apiBase: string;
    /** Company 1's seed connection, when both are set. */
    seedRealmId: string | null;
    seedRefreshToken: string | null;
    refreshMarginMs: number;
    /** The wait after a 429 (QuickBooks sends no Retry-After). */
    rateLimitWaitMs: number;
    /** Defaults of the per-company mapping (accounting_settings). */
    defaultIncomeItemId: string | null;
    defaultExpenseAccountId: string | null;
  };
  devpos: {
    baseUrl: string;
    /** DEVPOS_TIMEOUT_MS: one request's time limit. */
    timeoutMs: number;
    /** base64 of "<public client id>:"; empty when not configured. */
    authBasic: string;
    /** Company 1's seed login, when all three are set. */
    seed: { tenant: string; username: string; password: string } | null;
  };
}

/** SECRETS_KEY as a 32-byte key, or a problem naming the variable (never its value). */
function secretsKey(value: string | undefined, problems: string[]): Buffer | null {
  if (!value) return null;
  const key = /^[A-Za-z0-9+/_-]+={0,2}$/.test(value) ? Buffer.from(value, 'base64') : Buffer.alloc(0);
  if (key.length !== 32) {
    problems.push('SECRETS_KEY must be 32 bytes, base64-encoded (openssl rand -base64 32)');
    return null;
  }
  return key;
}

export class ConfigValidationError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigValidationError';
  }
}

/** Default HTTP ports, so the whole distributed set can run on one machine without collisions. */
export const DEFAULT_PORTS: Record<string, number> = {
  gateway: 3000,
  scheduler: 3001,
  'splynx-sync': 3002,
  'accounting-sync': 3003,
  'crm-sync': 3004,
  'usage-sync': 3005,
  embedded: 3000,
  cli: 0,
};

/** One line per variable, naming it; values are not echoed (some are secrets). */
function describe(errors: ValidationError[]): string[] {
  return errors.map((e) => {
    const reasons = Object.values(e.constraints ?? {}).map((m) => m.replace(new RegExp(`^${e.property} `), ''));
    return `${e.property} ${reasons.join(', ')}`;
  });
}

/**
 * Readable lines for a person at a terminal running the hub on one machine; JSON everywhere else (containers, pipes,
 * files, the distributed mode), where something reads the logs. `isTTY`: whether the stream the logs go to is one.
 */
export function defaultLogFormat(mode: RunMode, isTTY: boolean): LogFormat {
  return mode === 'embedded' && isTTY ? 'pretty' : 'json';
}

/** Validates the environment and maps it once to the typed configuration every module receives. */
export function loadConfig(appName: string, env: NodeJS.ProcessEnv | Record<string, string | undefined>): AppConfig {
  const vars = plainToInstance(EnvironmentVariables, { ...env }, { excludeExtraneousValues: false });
  const problems = describe(validateSync(vars, { skipMissingProperties: false, forbidUnknownValues: false }));
  const mode: RunMode = vars.KAFKA_BROKERS ? 'distributed' : 'embedded';
  if (mode === 'distributed' && !vars.DATABASE_URL) {
    problems.push('DATABASE_URL is required when KAFKA_BROKERS is set (the distributed mode runs on MySQL/MariaDB)');
  }
  const splynxKeyed = vars.SPLYNX_API_KEY && vars.SPLYNX_API_SECRET;
  if (vars.SPLYNX_URL && !splynxKeyed) {
    problems.push('SPLYNX_API_KEY and SPLYNX_API_SECRET are required when SPLYNX_URL is set');
  }
  if (vars.ROBAWS_URL && !(vars.ROBAWS_API_KEY && vars.ROBAWS_API_SECRET)) {
    problems.push('ROBAWS_API_KEY and ROBAWS_API_SECRET are required when ROBAWS_URL is set');
  }
  if ((vars.CP_EXPORT_URL || vars.CP_VISIT_URL) && !vars.CP_EXPORT_TOKEN) {
    problems.push('CP_EXPORT_TOKEN is required when CP_EXPORT_URL or CP_VISIT_URL is set');
  }
  const key = secretsKey(vars.SECRETS_KEY, problems);
  if (vars.QBO_REFRESH_TOKEN && !vars.QBO_REALM_ID)
    problems.push('QBO_REALM_ID is required when QBO_REFRESH_TOKEN is set');
  const devposSeed = [vars.DEVPOS_TENANT, vars.DEVPOS_USERNAME, vars.DEVPOS_PASSWORD];
  if (devposSeed.some(Boolean) && !devposSeed.every(Boolean))
    problems.push('DEVPOS_TENANT, DEVPOS_USERNAME and DEVPOS_PASSWORD seed company 1 together: set all three or none');
  if (problems.length > 0) throw new ConfigValidationError(problems);
  const qboEnvironment = (vars.QBO_ENVIRONMENT as 'sandbox' | 'production' | undefined) ?? 'sandbox';
  const selfUrl = `http://127.0.0.1:${vars.PORT ?? DEFAULT_PORTS[appName] ?? 3000}`;

  const dataDir = path.resolve(vars.DATA_DIR ?? 'data');
  const databaseUrl = vars.DATABASE_URL ?? `sqlite:${path.join(dataDir, 'sync-hub.sqlite')}`;
  const database: DatabaseConfig = databaseUrl.startsWith('sqlite:')
    ? { kind: 'sqlite', file: path.resolve(databaseUrl.slice('sqlite:'.length)) }
    : { kind: 'mysql', url: databaseUrl.replace(/^mariadb:/, 'mysql:') };

  return {
    appName,
    mode,
    port: vars.PORT ?? DEFAULT_PORTS[appName] ?? 3000,
    logLevel: vars.LOG_LEVEL ?? 'info',
    logFormat:
      (vars.LOG_FORMAT as LogFormat | undefined) ??
      defaultLogFormat(mode, Boolean(appName === 'cli' ? process.stderr.isTTY : process.stdout.isTTY)),
    kafka: vars.KAFKA_BROKERS
      ? {
          brokers: vars.KAFKA_BROKERS.split(','),
          clientId: `sync-hub-${appName}`,
          groupId: vars.KAFKA_GROUP_ID ?? appName,
          topicPartitions: vars.KAFKA_TOPIC_PARTITIONS ?? 3,
          replicationFactor: vars.KAFKA_REPLICATION_FACTOR ?? 1,
        }
      : null,
    maxDeliveryAttempts: vars.KAFKA_MAX_ATTEMPTS ?? 3,
    shutdownGraceMs: vars.SHUTDOWN_GRACE_MS ?? 25000,
    database,
    gatewayApiKeys: vars.GATEWAY_API_KEYS ? vars.GATEWAY_API_KEYS.split(',') : [],
    changeEvents: parseChangeEvents(vars.CHANGE_EVENTS),
    splynx: {
      baseUrl: vars.SPLYNX_URL ? vars.SPLYNX_URL.replace(/\/+$/, '') : null,
      authMode: (vars.SPLYNX_AUTH_MODE as SplynxAuthMode | undefined) ?? 'api_key',
      apiKey: vars.SPLYNX_API_KEY ?? '',
      apiSecret: vars.SPLYNX_API_SECRET ?? '',
      pageSize: vars.SPLYNX_PAGE_SIZE ?? 500,
      timeZone: vars.SPLYNX_TIMEZONE ?? 'UTC',
      incrementalOverlapSeconds: vars.SPLYNX_INCREMENTAL_OVERLAP_SECONDS ?? 300,
      writeConcurrency: vars.SPLYNX_WRITE_CONCURRENCY ?? 2,
    },
    http: {
      timeoutMs: vars.HTTP_TIMEOUT_MS ?? 30000,
      retries: vars.HTTP_RETRIES ?? 3,
      retryBaseDelayMs: vars.HTTP_RETRY_BASE_DELAY_MS ?? 500,
      maxConcurrency: vars.HTTP_MAX_CONCURRENCY ?? 4,
    },
    simulator: {
      splynxCustomers: vars.SIMULATOR_SPLYNX_CUSTOMERS ?? 2000,
      seedUsage: vars.EMBEDDED_SEED_USAGE !== 'false',
    },
    dataDir,
    gateway: {
      schedulerUrl: (
        vars.SCHEDULER_URL ??
        (mode === 'embedded'
          ? `http://127.0.0.1:${vars.PORT ?? DEFAULT_PORTS[appName] ?? 3000}`
          : `http://localhost:${DEFAULT_PORTS.scheduler}`)
      ).replace(/\/+$/, ''),
      accountingSyncUrl: (
        vars.ACCOUNTING_SYNC_URL ??
        (mode === 'embedded' ? selfUrl : `http://localhost:${DEFAULT_PORTS['accounting-sync']}`)
      ).replace(/\/+$/, ''),
      crmSyncUrl: (
        vars.CRM_SYNC_URL ?? (mode === 'embedded' ? selfUrl : `http://localhost:${DEFAULT_PORTS['crm-sync']}`)
      ).replace(/\/+$/, ''),
      usageSyncUrl: (
        vars.USAGE_SYNC_URL ?? (mode === 'embedded' ? selfUrl : `http://localhost:${DEFAULT_PORTS['usage-sync']}`)
      ).replace(/\/+$/, ''),
      rateLimitPerMinute: vars.GATEWAY_RATE_LIMIT_PER_MINUTE ?? 600,
      runHistoryRetentionDays: vars.RUN_HISTORY_RETENTION_DAYS ?? 90,
    },
    notifications: {
      smtpUrl: vars.SMTP_URL ?? null,
      emailTo: vars.NOTIFY_EMAIL_TO ? vars.NOTIFY_EMAIL_TO.split(',') : [],
      emailFrom: vars.NOTIFY_EMAIL_FROM ?? 'sync-hub@localhost',
      webhookUrl: vars.NOTIFY_WEBHOOK_URL ?? null,
    },
    crm: {
      robaws: {
        baseUrl: vars.ROBAWS_URL ? vars.ROBAWS_URL.replace(/\/+$/, '') : null,
        apiKey: vars.ROBAWS_API_KEY ?? '',
        apiSecret: vars.ROBAWS_API_SECRET ?? '',
        webhookSecret: vars.ROBAWS_WEBHOOK_SECRET ?? null,
        defaultCountry: vars.ROBAWS_DEFAULT_COUNTRY ?? 'BE',
        pageSize: vars.ROBAWS_PAGE_SIZE ?? 100,
        requestsPerSecond: vars.ROBAWS_REQUESTS_PER_SECOND ?? 15,
      },
      cp: {
        exportUrl: vars.CP_EXPORT_URL ?? null,
        visitUrl: vars.CP_VISIT_URL ?? null,
        token: vars.CP_EXPORT_TOKEN ?? '',
        timeoutMs: (vars.CP_EXPORT_TIMEOUT ?? 300) * 1000,
        attempts: vars.CP_EXPORT_RETRY_ATTEMPTS ?? 3,
        retryDelayMs: (vars.CP_EXPORT_RETRY_DELAY ?? 5) * 1000,
        batchLimit: vars.CP_EXPORT_BATCH_LIMIT ?? 1000,
        maxLoops: vars.CP_EXPORT_MAX_LOOPS ?? 50,
      },
    },
    usage: {
      maxConcurrency: vars.USAGE_MAX_CONCURRENCY ?? 32,
      panelTimeoutMs: (vars.USAGE_PANEL_TIMEOUT ?? 30) * 1000,
    },
    accounting: {
      secretsKey: key,
      quickbooks: {
        clientId: vars.QBO_CLIENT_ID ?? '',
        clientSecret: vars.QBO_CLIENT_SECRET ?? '',
        redirectUri: vars.QBO_REDIRECT_URI ?? `http://localhost:${DEFAULT_PORTS.gateway}/oauth/quickbooks/callback`,
        environment: qboEnvironment,
        authUrl: vars.QBO_AUTH_URL ?? INTUIT.authUrl,
        tokenUrl: vars.QBO_TOKEN_URL ?? INTUIT.tokenUrl,
        revokeUrl: vars.QBO_REVOKE_URL ?? INTUIT.revokeUrl,
        apiBase: (vars.QBO_API_BASE ?? INTUIT.apiBase[qboEnvironment]).replace(/\/+$/, ''),
        seedRealmId: vars.QBO_REFRESH_TOKEN ? (vars.QBO_REALM_ID ?? null) : null,
        seedRefreshToken: vars.QBO_REFRESH_TOKEN ?? null,
        refreshMarginMs: (vars.QBO_REFRESH_MARGIN_MINUTES ?? 10) * 60_000,
        rateLimitWaitMs: (vars.QBO_RATE_LIMIT_WAIT_SECONDS ?? 60) * 1000,
        defaultIncomeItemId: vars.QBO_DEFAULT_INCOME_ITEM_ID ?? null,
        defaultExpenseAccountId: vars.QBO_DEFAULT_EXPENSE_ACCOUNT_ID ?? null,
      },
      devpos: {
        baseUrl: (vars.DEVPOS_URL ?? 'https://online.devpos.al').replace(/\/+$/, ''),
        timeoutMs: vars.DEVPOS_TIMEOUT_MS ?? 45_000,
        authBasic: vars.DEVPOS_AUTH_BASIC ?? '',
        seed:
          vars.DEVPOS_TENANT && vars.DEVPOS_USERNAME && vars.DEVPOS_PASSWORD
            ? { tenant: vars.DEVPOS_TENANT, username: vars.DEVPOS_USERNAME, password: vars.DEVPOS_PASSWORD }
            : null,
      },
    },
    scheduler: {
      // The embedded mode syncs Splynx at start (issue 2); a deployed scheduler only follows its schedules.
      runOnStart: (vars.SCHEDULER_RUN_ON_START ?? (mode === 'embedded' ? 'splynx:customers' : 'none'))
        .split(',')
        .filter((j) => j !== 'none'),
      leaderLeaseMs: vars.SCHEDULER_LEADER_LEASE_MS ?? 30000,
      clock: (vars.SCHEDULER_CLOCK as 'system' | 'manual' | undefined) ?? 'system',
      clockStart: vars.SCHEDULER_CLOCK_START ? new Date(vars.SCHEDULER_CLOCK_START) : null,
    },
  };
}
