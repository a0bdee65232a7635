import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform, Type } from 'class-transformer';
import {
  IsBoolean,
  IsIn,
  IsInt,
  IsISO8601,
  IsObject,
  IsOptional,
  IsString,
  IsUrl,
  Matches,
  Max,
  MaxLength,
  Min,
  MinLength,
  ValidateIf,
} from 'class-validator';

/** The panel types usage-sync reads traffic from (seed 004). */
export const USAGE_PANEL_TYPES = ['eylandoo', 'marzban', 'marzneshin', '3x-ui'] as const;
export type UsagePanelType = (typeof USAGE_PANEL_TYPES)[number];

/** A panel's write-only credential fields, as the API names them. */
export const PANEL_CREDENTIAL_FIELDS = ['username', 'password', 'api_key', 'api_token'] as const;
export type PanelCredentialField = (typeof PANEL_CREDENTIAL_FIELDS)[number];

/** A reseller config's status; the usage job reads `active` configs only. */
export const CONFIG_STATUSES = ['active', 'disabled', 'suspended', 'expired'] as const;
export type ConfigStatus = (typeof CONFIG_STATUSES)[number];

const trimmed = ({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim() : value);
/** Set (not undefined): null is then checked like any other value, so it is refused where it means nothing. */
const present = (_: object, value: unknown) => value !== undefined;
/** Set to a value: null passes (it clears the field). */
const notNull = (_: object, value: unknown) => value !== undefined && value !== null;

const CURSOR_MESSAGE = 'cursor is not a cursor this API gave out';

/** Paging shared by the usage lists: by id, `next_cursor` continues after the page's last row. */
export class UsagePageQuery {
  @ApiPropertyOptional({ description: 'next_cursor of the previous page' })
  @IsOptional()
  @Matches(/^[A-Za-z0-9_-]{1,100}$/, { message: CURSOR_MESSAGE })
  cursor?: string;

  @ApiPropertyOptional({ minimum: 1, maximum: 500, default: 50 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(500)
  limit?: number;
}

/** POST /api/usage/resellers. */
export class CreateResellerBody {
  @ApiProperty({ example: 'Reseller A', description: 'unique' })
  @Transform(trimmed)
  @IsString()
  @MinLength(1, { message: 'name must not be empty' })
  @MaxLength(255)
  name: string;
}

export interface ResellerView {
  id: number;
  name: string;
  config_count: number;
  created_at: string;
  updated_at: string;
}

export interface ResellerPage {
  data: ResellerView[];
  next_cursor: string | null;
}

/** GET /api/usage/panels: filters and paging. */
export class ListPanelsQuery extends UsagePageQuery {
  @ApiPropertyOptional({ enum: USAGE_PANEL_TYPES })
  @IsOptional()
  @IsIn(USAGE_PANEL_TYPES, { message: `type must be one of ${USAGE_PANEL_TYPES.join(', ')}` })
  type?: UsagePanelType;

  @ApiPropertyOptional({ enum: ['true', 'false'] })
  @IsOptional()
  @IsIn(['true', 'false'], { message: 'active must be true or false' })
  active?: 'true' | 'false';
}

const URL_OPTIONS = { require_tld: false, require_protocol: true, protocols: ['http', 'https'], disallow_auth: true };
const URL_MESSAGE = 'url must be an http(s) URL, without a user or password in it (those go in username and password)';
const SETTINGS_DESCRIPTION =
  'per type: eylandoo { paths: { user: "/api/v1/users/{username}" } } (the user path, with {username}); 3x-ui { generation: legacy | v3.1, cookie_name } (v3.1 with an api_token reads the v3.1 route with the token); marzban and marzneshin none. Replaced as a whole by a PATCH';

/**
 * POST /api/usage/panels. Credentials are write-only: sealed at rest, never answered back. Which a type needs is
 * checked by usage-sync (eylandoo: api_key; marzban, marzneshin: username and password; 3x-ui: username and password,
 * or api_token on a v3.1 panel); a credential the type does not read is refused.
 */
export class CreatePanelBody {
  @ApiProperty({ example: 'eu-1', description: 'unique' })
  @Transform(trimmed)
  @IsString()
  @MinLength(1, { message: 'name must not be empty' })
  @MaxLength(255)
  name: string;

  @ApiProperty({ enum: USAGE_PANEL_TYPES })
  @IsIn(USAGE_PANEL_TYPES, { message: `type must be one of ${USAGE_PANEL_TYPES.join(', ')}` })
  type: UsagePanelType;

  @ApiProperty({ example: 'https://panel.example.com:8443', description: 'the panel base URL, http(s)' })
  @Transform(trimmed)
  @IsUrl(URL_OPTIONS, { message: URL_MESSAGE })
  @MaxLength(2048)
  url: string;

  @ApiPropertyOptional({ writeOnly: true, description: 'marzban, marzneshin, 3x-ui' })
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(255)
  username?: string;

  @ApiPropertyOptional({ writeOnly: true, description: 'marzban, marzneshin, 3x-ui' })
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(1024)
  password?: string;

  @ApiPropertyOptional({ writeOnly: true, description: 'eylandoo (sent as X-API-Key)' })
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(1024)
  api_key?: string;

  @ApiPropertyOptional({ writeOnly: true, description: '3x-ui v3.1+ (sent as a Bearer token)' })
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(1024)
  api_token?: string;

  @ApiPropertyOptional({ minimum: 1, maximum: 256, default: 8, description: 'requests in flight to this panel' })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(256)
  max_concurrency?: number;

  @ApiPropertyOptional({ minimum: 1, maximum: 10000, nullable: true, description: 'null: no rate limit' })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(10000)
  requests_per_second?: number | null;

  @ApiPropertyOptional({ default: true, description: 'an inactive panel is not synced' })
  @IsOptional()
  @IsBoolean()
  active?: boolean;

  @ApiPropertyOptional({ type: 'object', additionalProperties: true, description: SETTINGS_DESCRIPTION })
  @IsOptional()
  @IsObject()
  settings?: Record<string, unknown>;
}

/**
 * PATCH /api/usage/panels/:id: any of the fields. A credential given replaces the stored one, null removes it, one
 * left out is kept; credentials the (new) type does not read are dropped.
 */
export class UpdatePanelBody {
  @ApiPropertyOptional()
  @ValidateIf(present)
  @Transform(trimmed)
  @IsString()
  @MinLength(1, { message: 'name must not be empty' })
  @MaxLength(255)
  name?: string;

  @ApiPropertyOptional({ enum: USAGE_PANEL_TYPES })
  @ValidateIf(present)
  @IsIn(USAGE_PANEL_TYPES, { message: `type must be one of ${USAGE_PANEL_TYPES.join(', ')}` })
  type?: UsagePanelType;

  @ApiPropertyOptional()
  @ValidateIf(present)
  @Transform(trimmed)
  @IsUrl(URL_OPTIONS, { message: URL_MESSAGE })
  @MaxLength(2048)
  url?: string;

  @ApiPropertyOptional({ writeOnly: true, nullable: true })
  @ValidateIf(notNull)
  @IsString()
  @MinLength(1)
  @MaxLength(255)
  username?: string | null;

  @ApiPropertyOptional({ writeOnly: true, nullable: true })
  @ValidateIf(notNull)
  @IsString()
  @MinLength(1)
  @MaxLength(1024)
  password?: string | null;

  @ApiPropertyOptional({ writeOnly: true, nullable: true })
  @ValidateIf(notNull)
  @IsString()
  @MinLength(1)
  @MaxLength(1024)
  api_key?: string | null;

  @ApiPropertyOptional({ writeOnly: true, nullable: true })
  @ValidateIf(notNull)
  @IsString()
  @MinLength(1)
  @MaxLength(1024)
  api_token?: string | null;

  @ApiPropertyOptional({ minimum: 1, maximum: 256 })
  @ValidateIf(present)
  @IsInt()
  @Min(1)
  @Max(256)
  max_concurrency?: number;

  @ApiPropertyOptional({ minimum: 1, maximum: 10000, nullable: true })
  @ValidateIf(notNull)
  @IsInt()
  @Min(1)
  @Max(10000)
  requests_per_second?: number | null;

  @ApiPropertyOptional()
  @ValidateIf(present)
  @IsBoolean()
  active?: boolean;

  @ApiPropertyOptional({ type: 'object', additionalProperties: true, description: SETTINGS_DESCRIPTION })
  @ValidateIf(present)
  @IsObject()
  settings?: Record<string, unknown>;
}

/** A panel as the API shows it: never a credential's value, only which are set; its health from the last syncs. */
export interface PanelView {
  id: number;
  name: string;
  type: UsagePanelType;
  url: string;
  /** Which credential fields are stored (never their values); null when the stored ones do not open (set them again). */
  credentials_set: PanelCredentialField[] | null;
  settings: Record<string, unknown>;
  max_concurrency: number;
  requests_per_second: number | null;
  active: boolean;
  last_success_at: string | null;
  last_error: string | null;
  last_error_at: string | null;
  config_count: number;
  active_config_count: number;
  /** Active configs whose last sync was a hard failure (`last_usage_error` set). */
  failing_config_count: number;
  /** failing_config_count / active_config_count (0..1, four decimals); null without active configs. */
  error_rate: number | null;
  /**
   * The panel's circuit in the answering usage-sync process: `open` (its configs fail without a call until a trial
   * read), `half_open` (that trial is under way) or `closed`. Each usage-sync replica keeps its own circuits.
   */
  circuit_state: 'closed' | 'open' | 'half_open';
  created_at: string;
  updated_at: string;
}

export interface PanelPage {
  data: PanelView[];
  next_cursor: string | null;
}

/** GET /api/usage/configs: filters and paging. */
export class ListConfigsQuery extends UsagePageQuery {
  @ApiPropertyOptional()
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  reseller_id?: number;

  @ApiPropertyOptional()
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  panel_id?: number;

  @ApiPropertyOptional({ enum: CONFIG_STATUSES })
  @IsOptional()
  @IsIn(CONFIG_STATUSES, { message: `status must be one of ${CONFIG_STATUSES.join(', ')}` })
  status?: ConfigStatus;

  @ApiPropertyOptional({ enum: ['true', 'false'], description: 'true: the last sync was a hard failure' })
  @IsOptional()
  @IsIn(['true', 'false'], { message: 'failing must be true or false' })
  failing?: 'true' | 'false';

  @ApiPropertyOptional({
    description:
      'ISO-8601: configs not synced since then (usage_synced_at before it, or never synced and added before it); the dashboard asks for two intervals ago',
  })
  @IsOptional()
  @IsISO8601({ strict: true }, { message: 'synced_before must be an ISO-8601 date-time' })
  synced_before?: string;
}

const MAX_BYTES = Number.MAX_SAFE_INTEGER;

/** POST /api/usage/configs. */
export class CreateConfigBody {
  @ApiProperty()
  @IsInt()
  @Min(1)
  reseller_id: number;

  @ApiProperty()
  @IsInt()
  @Min(1)
  panel_id: number;

  @ApiPropertyOptional({ nullable: true, description: "the user's id on the panel, when it has one" })
  @Transform(trimmed)
  @ValidateIf(notNull)
  @IsString()
  @MinLength(1)
  @MaxLength(255)
  panel_user_id?: string | null;

  @ApiProperty({ description: "the user's name on the panel (3x-ui: the client's email); unique per panel" })
  @Transform(trimmed)
  @IsString()
  @MinLength(1, { message: 'external_username must not be empty' })
  @MaxLength(255)
  external_username: string;

  @ApiPropertyOptional({ enum: CONFIG_STATUSES, default: 'active' })
  @IsOptional()
  @IsIn(CONFIG_STATUSES, { message: `status must be one of ${CONFIG_STATUSES.join(', ')}` })
  status?: ConfigStatus;

  @ApiPropertyOptional({ nullable: true, description: 'bytes; null: no limit' })
  @ValidateIf(notNull)
  @IsInt()
  @Min(1)
  @Max(MAX_BYTES)
  traffic_limit_bytes?: number | null;
}

/** PATCH /api/usage/configs/:id: any of the fields (usage is written by the sync only). */
export class UpdateConfigBody {
  @ApiPropertyOptional()
  @ValidateIf(present)
  @IsInt()
  @Min(1)
  reseller_id?: number;

  @ApiPropertyOptional()
  @ValidateIf(present)
  @IsInt()
  @Min(1)
  panel_id?: number;

  @ApiPropertyOptional({ nullable: true })
  @Transform(trimmed)
  @ValidateIf(notNull)
  @IsString()
  @MinLength(1)
  @MaxLength(255)
  panel_user_id?: string | null;

  @ApiPropertyOptional()
  @Transform(trimmed)
  @ValidateIf(present)
  @IsString()
  @MinLength(1, { message: 'external_username must not be empty' })
  @MaxLength(255)
  external_username?: string;

  @ApiPropertyOptional({ enum: CONFIG_STATUSES })
  @ValidateIf(present)
  @IsIn(CONFIG_STATUSES, { message: `status must be one of ${CONFIG_STATUSES.join(', ')}` })
  status?: ConfigStatus;

  @ApiPropertyOptional({ nullable: true })
  @ValidateIf(notNull)
  @IsInt()
  @Min(1)
  @Max(MAX_BYTES)
  traffic_limit_bytes?: number | null;
}

/** A reseller config as the API shows it, with its usage and the last sync's outcome. Times are ISO-8601 UTC. */
export interface ConfigView {
  id: number;
  reseller_id: number;
  panel_id: number;
  panel_user_id: string | null;
  external_username: string;
  status: string;
  usage_bytes: number;
  traffic_limit_bytes: number | null;
  /** usage_bytes / traffic_limit_bytes × 100, two decimals; null without a limit. */
  usage_percent: number | null;
  usage_synced_at: string | null;
  last_usage_error: string | null;
  last_usage_error_at: string | null;
  created_at: string;
  updated_at: string;
}

export interface ConfigPage {
  data: ConfigView[];
  next_cursor: string | null;
}

/** The usage routes' answers in one line each, for the OpenAPI descriptions (usage-sync's and the gateway's). */
export const USAGE_API_DESCRIPTIONS = {
  panel:
    'PanelView: { id, name, type, url, credentials_set (names of the stored credential fields, never values; null when they do not open), settings, max_concurrency, requests_per_second, active, last_success_at, last_error, last_error_at, config_count, active_config_count, failing_config_count, error_rate (failing / active configs, null without any), circuit_state (closed, open or half_open, in the answering usage-sync), created_at, updated_at }',
  config:
    'ConfigView: { id, reseller_id, panel_id, panel_user_id, external_username, status, usage_bytes, traffic_limit_bytes, usage_percent (null without a limit), usage_synced_at, last_usage_error (the last sync was a hard failure; null after a success), last_usage_error_at, created_at, updated_at }',
  reseller: 'ResellerView: { id, name, config_count, created_at, updated_at }',
  panelBad:
    'fields names each bad field: unknown fields, a type not eylandoo | marzban | marzneshin | 3x-ui, a url that is not http(s), a credential the type does not use or one it needs missing (eylandoo: api_key; marzban, marzneshin: username and password; 3x-ui: username and password, or api_token with settings.generation v3.1), a setting the type does not have; nothing is written',
  panelDeleteBusy:
    'the panel still has reseller configs: move them to another panel (PATCH /api/usage/configs/:id with panel_id) or deactivate it (PATCH with active: false); nothing is deleted',
  configBad: `fields names each bad field: unknown fields, a reseller_id or panel_id that does not exist, an empty external_username, a status not ${CONFIG_STATUSES.join(' | ')}, a traffic_limit_bytes that is not a positive integer; nothing is written`,
  configTaken: 'the panel has a config for that external_username already (one config per panel user)',
  configSync:
    'The diagnostic: { config_id, panel_type, status: updated | unchanged | hard_failure | skipped, fetched_bytes (null on a hard failure), source_field, previous_bytes, current_bytes, delta_bytes, error? }',
} as const;
