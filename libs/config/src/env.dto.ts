import 'reflect-metadata';
import { Transform, Type } from 'class-transformer';
import {
  IsIn,
  IsInt,
  IsISO8601,
  IsOptional,
  IsString,
  IsTimeZone,
  IsUrl,
  Matches,
  Max,
  Min,
  MinLength,
} from 'class-validator';

const toTrimmed = ({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim() || undefined : value);

/**
 * Every environment variable the hub reads. Validated once at start-up; a bad value stops the process with a
 * message naming the variable. Nothing else reads process.env.
 */
export class EnvironmentVariables {
  @IsOptional()
  @Transform(toTrimmed)
  @IsIn(['development', 'production', 'test'])
  NODE_ENV?: string;

  @IsOptional()
  @Transform(toTrimmed)
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(65535)
  PORT?: number;

  @IsOptional()
  @Transform(toTrimmed)
  @IsIn(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
  LOG_LEVEL?: string;

  /** `json` (one object per line) or `pretty` (readable lines); default: pretty for the embedded mode on a terminal. */
  @IsOptional()
  @Transform(toTrimmed)
  @IsIn(['json', 'pretty'])
  LOG_FORMAT?: string;

  /** Days of run history the gateway keeps (each job's last success is kept whatever its age). */
  @IsOptional()
  @Transform(toTrimmed)
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(3650)
  RUN_HISTORY_RETENTION_DAYS?: number;

  /** Comma-separated host:port list. Set: distributed mode over Kafka. Unset: the in-process bus. */
  @IsOptional()
  @Transform(toTrimmed)
  @Matches(/^[\w.-]+:\d+(,[\w.-]+:\d+)*$/, { message: 'KAFKA_BROKERS must be host:port[,host:port...]' })
  KAFKA_BROKERS?: string;

  @IsOptional()
  @Transform(toTrimmed)
  @Matches(/^[\w.-]+$/, { message: 'KAFKA_GROUP_ID may hold letters, digits, dot, dash and underscore' })
  KAFKA_GROUP_ID?: string;

  @IsOptional()
  @Transform(toTrimmed)
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(1000)
  KAFKA_TOPIC_PARTITIONS?: number;

  /** The domains whose syncs publish record-level change events: `all` (default), `none`, or e.g. `splynx,crm`. */
  @IsOptional()
  @Transform(toTrimmed)
  @Matches(/^(all|none|(splynx|accounting|crm|usage)( *, *(splynx|accounting|crm|usage))*)$/, {
    message: 'CHANGE_EVENTS must be all, none, or a comma-separated list of splynx, accounting, crm, usage',
  })
  CHANGE_EVENTS?: string;

  @IsOptional()
  @Transform(toTrimmed)
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(10)
  KAFKA_REPLICATION_FACTOR?: number;

  /** How often a message is tried before it is dead-lettered. */
  @IsOptional()
  @Transform(toTrimmed)
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(100)
  KAFKA_MAX_ATTEMPTS?: number;

  /**
   * How long runs in flight get to finish after SIGTERM before they are recorded as interrupted and handed over; keep
   * it some seconds under the pod's terminationGracePeriodSeconds.
   */
  @IsOptional()
  @Transform(toTrimmed)
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(600000)
  SHUTDOWN_GRACE_MS?: number;

  /** mysql://user:pass@host:port/db, or sqlite:<file>. Default in the embedded mode: sqlite:./data/sync-hub.sqlite */
  @IsOptional()
  @Transform(toTrimmed)
  @Matches(/^(mysql|mariadb):\/\/[^/]+\/\w+(\?.*)?$|^sqlite:.+$/, {
    message: 'DATABASE_URL must be mysql://user:password@host:port/database or sqlite:<file>',
  })
  DATABASE_URL?: string;

  /** Comma-separated API keys accepted by the gateway. */
  @IsOptional()
  @Transform(toTrimmed)
  @Matches(/^[^,\s]{16,}(,[^,\s]{16,})*$/, {
    message: 'GATEWAY_API_KEYS must be comma-separated keys of at least 16 characters',
  })
  GATEWAY_API_KEYS?: string;

  @IsOptional()
  @Transform(toTrimmed)
  @IsUrl({ require_tld: false, require_protocol: true, protocols: ['http', 'https'] })
  SPLYNX_URL?: string;

  /** Where the gateway reaches the scheduler's API (distributed mode). */
  @IsOptional()
  @Transform(toTrimmed)
  @IsUrl({ require_tld: false, require_protocol: true, protocols: ['http', 'https'] })
  SCHEDULER_URL?: string;

  /** Requests per minute per API key on /api (the gateway). */
  @IsOptional()
  @Transform(toTrimmed)
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(100000)
  GATEWAY_RATE_LIMIT_PER_MINUTE?: number;

  /** smtp://user:pass@host:port or smtps://…: failure and recovery emails go through it. */
  @IsOptional()
  @Transform(toTrimmed)
  @Matches(/^smtps?:\/\/.+/, { message: 'SMTP_URL must be smtp://[user:pass@]host:port or smtps://…' })
  SMTP_URL?: string;

  /** Comma-separated recipients of notification emails. */
  @IsOptional()
  @Transform(toTrimmed)
  @Matches(/^[^@\s,]+@[^@\s,]+(,[^@\s,]+@[^@\s,]+)*$/, {
    message: 'NOTIFY_EMAIL_TO must be comma-separated email addresses',
  })
  NOTIFY_EMAIL_TO?: string;

  @IsOptional()
  @Transform(toTrimmed)
  @Matches(/^[^@\s]+@[^@\s]+$/, { message: 'NOTIFY_EMAIL_FROM must be an email address' })
  NOTIFY_EMAIL_FROM?: string;

  /** A JSON webhook that receives every notification. */
  @IsOptional()
  @Transform(toTrimmed)
  @IsUrl({ require_tld: false, require_protocol: true, protocols: ['http', 'https'] })
  NOTIFY_WEBHOOK_URL?: string;

  @IsOptional()
  @Transform(toTrimmed)
  @IsIn(['api_key', 'signature', 'basic'])
  SPLYNX_AUTH_MODE?: string;

  @IsOptional()
  @Transform(toTrimmed)
  @IsString()
  @MinLength(1)
  SPLYNX_API_KEY?: string;

  @IsOptional()
  @Transform(toTrimmed)
  @IsString()
  @MinLength(1)
  SPLYNX_API_SECRET?: string;

  @IsOptional()
  @Transform(toTrimmed)
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(10000)
  SPLYNX_PAGE_SIZE?: number;

  /** The Splynx server's time zone: its `last_update` times are wall-clock times there (the watermark's zone). */
  @IsOptional()
  @Transform(toTrimmed)
  @IsTimeZone({ message: 'SPLYNX_TIMEZONE must be an IANA time zone such as Europe/Tirane or UTC' })
  SPLYNX_TIMEZONE?: string;

  /** An incremental run asks for customers changed since the watermark minus this many seconds. */
  @IsOptional()
  @Transform(toTrimmed)
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(86400)
  SPLYNX_INCREMENTAL_OVERLAP_SECONDS?: number;

  /** Pages of customers written at once, each on its own connection (MariaDB takes concurrent batches). */
  @IsOptional()
  @Transform(toTrimmed)
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(8)
  SPLYNX_WRITE_CONCURRENCY?: number;

  @IsOptional()
  @Transform(toTrimmed)
  @Type(() => Number)
  @IsInt()
  @Min(100)
  @Max(600000)
  HTTP_TIMEOUT_MS?: number;

  @IsOptional()
  @Transform(toTrimmed)
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(20)
  HTTP_RETRIES?: number;

  @IsOptional()
  @Transform(toTrimmed)
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(60000)
  HTTP_RETRY_BASE_DELAY_MS?: number;

  @IsOptional()
  @Transform(toTrimmed)
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(256)
  HTTP_MAX_CONCURRENCY?: number;

  /** Embedded mode only: how many customers the built-in Splynx simulator is seeded with. */
  @IsOptional()
  @Transform(toTrimmed)
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(10000000)
  SIMULATOR_SPLYNX_CUSTOMERS?: number;

  /**
   * Embedded mode only: `true` (the default) starts a simulator of each VPN panel type and, while the usage tables are
   * empty, seeds resellers, panels and configs on them; `false` does neither.
   */
  @IsOptional()
  @Transform(toTrimmed)
  @IsIn(['true', 'false'])
  EMBEDDED_SEED_USAGE?: string;

  /** Where the embedded mode keeps its SQLite file. */
  @IsOptional()
  @Transform(toTrimmed)
  @IsString()
  DATA_DIR?: string;

  /** Jobs (`domain:job`, comma-separated) the scheduler runs once when it starts leading, or `none`. */
  @IsOptional()
  @Transform(toTrimmed)
  @Matches(/^(none|[a-z]+:[\w.]+(,[a-z]+:[\w.]+)*)$/, {
    message: 'SCHEDULER_RUN_ON_START must be none or domain:job[,domain:job...]',
  })
  SCHEDULER_RUN_ON_START?: string;

  /** How long scheduler leadership lasts without renewal; a standby takes over within this. */
  @IsOptional()
  @Transform(toTrimmed)
  @Type(() => Number)
  @IsInt()
  @Min(3000)
  @Max(600000)
  SCHEDULER_LEADER_LEASE_MS?: number;

  /** `manual`: the scheduler's clock only moves through POST /__clock (tests run hours of schedule in seconds). */
  @IsOptional()
  @Transform(toTrimmed)
  @IsIn(['system', 'manual'])
  SCHEDULER_CLOCK?: string;

  /** The manual clock's starting instant (ISO-8601). */
  @IsOptional()
  @Transform(toTrimmed)
  @IsISO8601({ strict: true })
  SCHEDULER_CLOCK_START?: string;
  /** Where the gateway reaches accounting-sync's API (distributed mode): connections and the QuickBooks callback. */
  @IsOptional()
  @Transform(toTrimmed)
  @IsUrl({ require_tld: false, require_protocol: true, protocols: ['http', 'https'] })
  ACCOUNTING_SYNC_URL?: string;

  /** Where the gateway reaches crm-sync's API (distributed mode): the Robaws customers routes. */
  @IsOptional()
  @Transform(toTrimmed)
  @IsUrl({ require_tld: false, require_protocol: true, protocols: ['http', 'https'] })
  CRM_SYNC_URL?: string;

  /** Where the gateway reaches usage-sync's API (distributed mode): resellers, panels and reseller configs. */
  @IsOptional()
  @Transform(toTrimmed)
  @IsUrl({ require_tld: false, require_protocol: true, protocols: ['http', 'https'] })
  USAGE_SYNC_URL?: string;

  /**
   * The key stored secrets (tokens, passwords) are encrypted with: 32 bytes, base64 (`openssl rand -base64 32`).
   * Required in the distributed mode; the embedded mode generates one into DATA_DIR.
   */
  @IsOptional()
  @Transform(toTrimmed)
  @IsString()
  SECRETS_KEY?: string;

  @IsOptional()
  @Transform(toTrimmed)
  @IsString()
  @MinLength(1)
  QBO_CLIENT_ID?: string;

  @IsOptional()
  @Transform(toTrimmed)
  @IsString()
  @MinLength(1)
  QBO_CLIENT_SECRET?: string;

  /** The redirect URI registered with Intuit: the gateway's /oauth/quickbooks/callback as the browser reaches it. */
  @IsOptional()
  @Transform(toTrimmed)
  @IsUrl({ require_tld: false, require_protocol: true, protocols: ['http', 'https'] })
  QBO_REDIRECT_URI?: string;

  @IsOptional()
  @Transform(toTrimmed)
  @IsIn(['sandbox', 'production'])
  QBO_ENVIRONMENT?: string;

  @IsOptional()
  @Transform(toTrimmed)
  @IsUrl({ require_tld: false, require_protocol: true, protocols: ['http', 'https'] })
  QBO_AUTH_URL?: string;

  @IsOptional()
  @Transform(toTrimmed)
  @IsUrl({ require_tld: false, require_protocol: true, protocols: ['http', 'https'] })
  QBO_TOKEN_URL?: string;

  @IsOptional()
  @Transform(toTrimmed)
  @IsUrl({ require_tld: false, require_protocol: true, protocols: ['http', 'https'] })
  QBO_REVOKE_URL?: string;

  /** The API host, before `/v3/company/{realmId}`; default by QBO_ENVIRONMENT. */
  @IsOptional()
  @Transform(toTrimmed)
  @IsUrl({ require_tld: false, require_protocol: true, protocols: ['http', 'https'] })
  QBO_API_BASE?: string;

  /** Single-tenant seeding: with QBO_REFRESH_TOKEN, connects company 1 at start when it has no QuickBooks connection. */
  @IsOptional()
  @Transform(toTrimmed)
  @Matches(/^\d{1,32}$/, { message: 'QBO_REALM_ID must be the digits of a QuickBooks company id' })
  QBO_REALM_ID?: string;

  @IsOptional()
  @Transform(toTrimmed)
  @IsString()
  @MinLength(1)
  QBO_REFRESH_TOKEN?: string;

  /** A QuickBooks access token is refreshed when it expires in less than this (seed 001: 10 minutes). */
  @IsOptional()
  @Transform(toTrimmed)
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(55)
  QBO_REFRESH_MARGIN_MINUTES?: number;

  /**
   * How long to wait after QuickBooks answers 429 (it sends no Retry-After; Intuit asks for 60 s). Lower only against a
   * simulator or when Intuit says otherwise.
   */
  @IsOptional()
  @Transform(toTrimmed)
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(600)
  QBO_RATE_LIMIT_WAIT_SECONDS?: number;

  /** Robaws's address, before /api/v2 (default https://app.robaws.com); unset in the embedded mode: the simulator. */
  @IsOptional()
  @Transform(toTrimmed)
  @IsUrl({ require_tld: false, require_protocol: true, protocols: ['http', 'https'] })
  ROBAWS_URL?: string;

  /** The Robaws API key and secret (HTTP Basic: key as the user, secret as the password; an "API only" user). */
  @IsOptional()
  @Transform(toTrimmed)
  @IsString()
  @MinLength(1)
  ROBAWS_API_KEY?: string;

  @IsOptional()
  @Transform(toTrimmed)
  @IsString()
  @MinLength(1)
  ROBAWS_API_SECRET?: string;

  /** The secret Robaws signs webhook deliveries with (else the one `robaws:webhooks:register` stored). */
  @IsOptional()
  @Transform(toTrimmed)
  @IsString()
  @MinLength(8)
  ROBAWS_WEBHOOK_SECRET?: string;

  /** The region of phone numbers written without a country code, and of VAT numbers without a prefix (ISO 3166). */
  @IsOptional()
  @Transform(toTrimmed)
  @Matches(/^[A-Z]{2}$/, { message: 'ROBAWS_DEFAULT_COUNTRY must be a two-letter country code (BE, NL, …)' })
  ROBAWS_DEFAULT_COUNTRY?: string;

  /** Clients per page (Robaws allows at most 100). */
  @IsOptional()
  @Transform(toTrimmed)
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(100)
  ROBAWS_PAGE_SIZE?: number;

  /**
   * The client's own pace: requests a second, in bursts of 4/3 of it (Robaws's bucket: 15/s, burst 20). Lower it when
   * other tools share the API key; 0 switches pacing off (an account with a raised limit, the benchmark's simulator).
   */
  @IsOptional()
  @Transform(toTrimmed)
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(1000)
  ROBAWS_REQUESTS_PER_SECOND?: number;

  /** The loyalty-club export endpoint (seed 002), e.g. https://clubprivileges.app/api/get-pending-sync-data. */
  @IsOptional()
  @Transform(toTrimmed)
  @IsUrl({ require_tld: false, require_protocol: true, protocols: ['http', 'https'] })
  CP_EXPORT_URL?: string;

  /** The loyalty club's hourly "sync visit" link (`cp.visit`), called with the same token. */
  @IsOptional()
  @Transform(toTrimmed)
  @IsUrl({ require_tld: false, require_protocol: true, protocols: ['http', 'https'] })
  CP_VISIT_URL?: string;

  /** The export's API token, sent as `Authorization: Bearer <token>` (a secret: never logged). */
  @IsOptional()
  @Transform(toTrimmed)
  @IsString()
  @MinLength(1)
  CP_EXPORT_TOKEN?: string;

  /** Seconds one export or visit request may take (the seed's 300). */
  @IsOptional()
  @Transform(toTrimmed)
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(3600)
  CP_EXPORT_TIMEOUT?: number;

  /** Attempts of one request in all, on a 5xx, a timeout or a network error (the seed's 3); a 401 is never retried. */
  @IsOptional()
  @Transform(toTrimmed)
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(10)
  CP_EXPORT_RETRY_ATTEMPTS?: number;

  /** Seconds before the first retry (the seed's 5); later ones back off exponentially from it. */
  @IsOptional()
  @Transform(toTrimmed)
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(300)
  CP_EXPORT_RETRY_DELAY?: number;

  /** Rows per table in one round (the request's `limit`, 1..5000). */
  @IsOptional()
  @Transform(toTrimmed)
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(5000)
  CP_EXPORT_BATCH_LIMIT?: number;

  /** Rounds one scheduled `cp.export` drains at most before it leaves the rest to the next run. */
  @IsOptional()
  @Transform(toTrimmed)
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(10000)
  CP_EXPORT_MAX_LOOPS?: number;

  /** Panel reads in flight at once over all panels in a `reseller.usage` run (each panel also has its own cap). */
  @IsOptional()
  @Transform(toTrimmed)
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(1000)
  USAGE_MAX_CONCURRENCY?: number;

  /** Seconds one VPN panel request may take before it is a hard failure of that config. */
  @IsOptional()
  @Transform(toTrimmed)
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(300)
  USAGE_PANEL_TIMEOUT?: number;

  /** DevPos's address, before /connect/token and /api/v3 (default https://online.devpos.al). */
  @IsOptional()
  @Transform(toTrimmed)
  @IsUrl({ require_tld: false, require_protocol: true, protocols: ['http', 'https'] })
  DEVPOS_URL?: string;

  /** One DevPos request's time limit (default 45000: long list ranges are slow); HTTP_TIMEOUT_MS does not shorten it. */
  @IsOptional()
  @Transform(toTrimmed)
  @Type(() => Number)
  @IsInt()
  @Min(100)
  @Max(600000)
  DEVPOS_TIMEOUT_MS?: number;

  /** The Basic credential of DevPos's public web-app client: base64 of "<client id>:" (empty secret). */
  @IsOptional()
  @Transform(toTrimmed)
  @Matches(/^[A-Za-z0-9+/]+=*$/, { message: 'DEVPOS_AUTH_BASIC must be base64 (of "<client id>:")' })
  DEVPOS_AUTH_BASIC?: string;

  /** Single-tenant seeding of company 1's DevPos login: its NIPT/NUIS, user name and password. */
  @IsOptional()
  @Transform(toTrimmed)
  @Matches(/^[A-Z]\d{8}[A-Z]$/, { message: 'DEVPOS_TENANT must be a NIPT/NUIS: a letter, 8 digits and a letter' })
  DEVPOS_TENANT?: string;

  @IsOptional()
  @Transform(toTrimmed)
  @IsString()
  @MinLength(1)
  DEVPOS_USERNAME?: string;

  @IsOptional()
  @IsString()
  @MinLength(1)
  DEVPOS_PASSWORD?: string;
  /** The QuickBooks income item of sales lines, for companies whose accounting_settings name none. */
  @IsOptional()
  @Transform(toTrimmed)
  @Matches(/^\d{1,20}$/, { message: 'QBO_DEFAULT_INCOME_ITEM_ID must be a QuickBooks Item Id (digits)' })
  QBO_DEFAULT_INCOME_ITEM_ID?: string;

  /** The QuickBooks expense account of bill lines, for companies whose accounting_settings name none. */
  @IsOptional()
  @Transform(toTrimmed)
  @Matches(/^\d{1,20}$/, { message: 'QBO_DEFAULT_EXPENSE_ACCOUNT_ID must be a QuickBooks Account Id (digits)' })
  QBO_DEFAULT_EXPENSE_ACCOUNT_ID?: string;
}
