import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsOptional, IsString, Matches, MaxLength, MinLength } from 'class-validator';

export const CONNECTION_PROVIDERS = ['quickbooks', 'devpos'] as const;
export type ConnectionProvider = (typeof CONNECTION_PROVIDERS)[number];

/** ok: usable; reauth_required: the upstream refused the stored grant (a person must reconnect); failing: other errors. */
export const CONNECTION_STATUSES = ['ok', 'reauth_required', 'failing'] as const;
export type ConnectionStatus = (typeof CONNECTION_STATUSES)[number];

/** An Albanian NIPT/NUIS: a letter, eight digits, a letter (K12345678A). */
export const NUIS_PATTERN = /^[A-Z]\d{8}[A-Z]$/;

/** PUT /api/companies/:id/connections/devpos: the company's DevPos login (the password is write-only). */
export class PutDevposConnectionDto {
  @ApiProperty({ example: 'accountant@example.al' })
  @IsString()
  @MinLength(1)
  @MaxLength(255)
  username: string;

  @ApiProperty({ writeOnly: true })
  @IsString()
  @MinLength(1)
  @MaxLength(1024)
  password: string;

  @ApiProperty({ example: 'K12345678A', description: "the company's NIPT/NUIS, sent as DevPos's tenant header" })
  @IsString()
  @Matches(NUIS_PATTERN, { message: 'tenant must be a NIPT/NUIS: a letter, 8 digits and a letter (K12345678A)' })
  tenant: string;

  @ApiPropertyOptional({ description: 'whether the company is VAT-registered (default false)' })
  @IsOptional()
  @IsBoolean()
  tracks_vat?: boolean;
}

export interface QuickBooksConnectionSettings {
  realm_id: string;
  environment: 'sandbox' | 'production';
}

export interface DevposConnectionSettings {
  username: string;
  tenant: string;
  tracks_vat: boolean;
}

/**
 * One provider's connection of a company, as GET /api/companies/:id/connections answers it (both providers, always):
 * status and expiries, never a secret. `connected: false` (and nulls) when the company has none for that provider.
 */
export interface ConnectionView {
  company_id: number;
  provider: ConnectionProvider;
  connected: boolean;
  status: ConnectionStatus | null;
  status_reason: string | null;
  settings: QuickBooksConnectionSettings | DevposConnectionSettings | null;
  access_token_expires_at: string | null;
  /** QuickBooks only: the rolling refresh token's expiry, and whole days until then. */
  refresh_token_expires_at: string | null;
  refresh_token_days_left: number | null;
  last_refreshed_at: string | null;
  updated_at: string | null;
}

/** GET /api/companies/:id/connections/quickbooks/authorize: where to send the person who connects QuickBooks. */
export interface AuthorizeView {
  url: string;
  /** The state in the URL stops working then (and after one use). */
  expires_at: string;
}

/**
 * Where GET /oauth/quickbooks/callback sends the browser after a valid state: the dashboard, with the result in the
 * query (`quickbooks=connected`, or `quickbooks=error&reason=…`). A bad or replayed state is a 400 instead.
 */
export function quickBooksCallbackRedirect(companyId: number, result: { ok: true } | { ok: false; reason: string }) {
  const q = new URLSearchParams({ company: String(companyId), quickbooks: result.ok ? 'connected' : 'error' });
  if (!result.ok) q.set('reason', result.reason);
  return `/?${q.toString()}`;
}
