import { Controller, Delete, Get, Param, Put, Req, Res, UseGuards } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiBody,
  ApiFoundResponse,
  ApiOperation,
  ApiParam,
  ApiQuery,
  ApiResponse,
  ApiTags,
} from '@nestjs/swagger';
import { CONNECTION_PROVIDERS, PutDevposConnectionDto } from '@sync-hub/contracts';
import { ApiKeyGuard } from '@sync-hub/platform';
import type { Request, Response } from 'express';
import { AccountingAnswer, AccountingClient } from './accounting.client';

/** Writes accounting-sync's answer as it came: status, content type, body, and a redirect's Location. */
export function passThrough(res: Response, answer: AccountingAnswer<unknown>): void {
  res.status(answer.status);
  if (answer.location) res.setHeader('location', answer.location);
  if (answer.contentType) res.setHeader('content-type', answer.contentType);
  if (answer.text) res.send(answer.text);
  else res.end();
}

const VIEW =
  'ConnectionView: { company_id, provider, connected, status (ok | reauth_required | failing), status_reason, settings (QuickBooks: realm_id, environment; DevPos: username, tenant, tracks_vat), access_token_expires_at, refresh_token_expires_at, refresh_token_days_left, last_refreshed_at, updated_at }; never a secret';

/**
 * A company's connections, forwarded to accounting-sync (which owns them, validates bodies and answers 404 for a
 * company it does not know). Documented here so /docs shows the whole public API.
 */
@ApiTags('connections')
@ApiBearerAuth()
@Controller('api/companies/:companyId/connections')
@UseGuards(ApiKeyGuard)
export class AccountingProxyController {
  constructor(private readonly accounting: AccountingClient) {}

  @Get()
  @ApiOperation({ summary: "Both providers' connections of the company: status, settings and expiries" })
  @ApiParam({ name: 'companyId', type: Number })
  @ApiResponse({ status: 200, description: `[ConnectionView, ConnectionView] (quickbooks, devpos). ${VIEW}` })
  @ApiResponse({ status: 404, description: 'unknown company' })
  async list(@Param('companyId') companyId: string, @Req() req: Request, @Res() res: Response): Promise<void> {
    passThrough(res, await this.accounting.connections(companyId, req.headers.authorization));
  }

  @Get('quickbooks/authorize')
  @ApiOperation({
    summary:
      "{ url, expires_at }: Intuit's authorize page for connecting the company's QuickBooks, with a signed state bound to the company (15 minutes, one use); send the person's browser there",
  })
  @ApiParam({ name: 'companyId', type: Number })
  @ApiResponse({ status: 200, description: '{ url, expires_at }' })
  @ApiResponse({ status: 404, description: 'unknown company' })
  @ApiResponse({ status: 409, description: 'QBO_CLIENT_ID / QBO_CLIENT_SECRET are not set' })
  async authorize(@Param('companyId') companyId: string, @Req() req: Request, @Res() res: Response): Promise<void> {
    passThrough(res, await this.accounting.authorize(companyId, req.headers.authorization));
  }

  @Put('devpos')
  @ApiOperation({
    summary:
      "Store the company's DevPos login (tried at once: the answer's status says whether DevPos took it); the password is never answered",
  })
  @ApiParam({ name: 'companyId', type: Number })
  @ApiBody({ type: PutDevposConnectionDto })
  @ApiResponse({ status: 200, description: VIEW })
  @ApiResponse({ status: 400, description: 'fields names each bad field' })
  @ApiResponse({ status: 404, description: 'unknown company' })
  async putDevpos(@Param('companyId') companyId: string, @Req() req: Request, @Res() res: Response): Promise<void> {
    passThrough(res, await this.accounting.putDevpos(companyId, req.body, req.headers.authorization));
  }

  @Delete(':provider')
  @ApiOperation({ summary: 'Disconnect: QuickBooks tokens are revoked at Intuit, then forgotten (204)' })
  @ApiParam({ name: 'companyId', type: Number })
  @ApiParam({ name: 'provider', enum: CONNECTION_PROVIDERS })
  @ApiResponse({ status: 204, description: 'disconnected' })
  @ApiResponse({ status: 404, description: 'unknown company, provider or connection' })
  @ApiResponse({ status: 502, description: 'Intuit did not confirm the revocation; nothing was forgotten' })
  async disconnect(
    @Param('companyId') companyId: string,
    @Param('provider') provider: string,
    @Req() req: Request,
    @Res() res: Response,
  ): Promise<void> {
    passThrough(res, await this.accounting.disconnect(companyId, provider, req.headers.authorization));
  }
}

/**
 * Intuit's redirect back after a person approves (or declines) the connection: public, no API key (the signed one-use
 * state is the authentication, checked by accounting-sync). Register this URL as the app's redirect URI
 * (QBO_REDIRECT_URI). The answer is passed through, not followed: a 302 to the dashboard with the result, or 400 for a
 * bad or replayed state.
 */
@ApiTags('connections')
@Controller('oauth/quickbooks')
export class QuickBooksCallbackProxyController {
  constructor(private readonly accounting: AccountingClient) {}

  @Get('callback')
  @ApiOperation({
    summary:
      "Intuit's redirect back (public; register it as QBO_REDIRECT_URI): exchanges the code once and sends the browser to the dashboard with the result",
  })
  @ApiQuery({ name: 'code', required: false })
  @ApiQuery({ name: 'realmId', required: false })
  @ApiQuery({ name: 'state', required: true })
  @ApiQuery({ name: 'error', required: false, description: 'instead of a code, when the person declined' })
  @ApiFoundResponse({ description: 'to /?company=N&quickbooks=connected, or /?company=N&quickbooks=error&reason=…' })
  @ApiResponse({ status: 400, description: 'a bad, expired or already used state; nothing is stored' })
  async callback(@Req() req: Request, @Res() res: Response): Promise<void> {
    const search = req.originalUrl.includes('?') ? req.originalUrl.slice(req.originalUrl.indexOf('?')) : '';
    passThrough(res, await this.accounting.quickBooksCallback(search));
  }
}
