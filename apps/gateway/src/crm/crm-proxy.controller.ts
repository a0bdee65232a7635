import { Controller, Get, HttpCode, Param, Patch, Post, Req, Res, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiOperation, ApiParam, ApiQuery, ApiResponse, ApiTags } from '@nestjs/swagger';
import { CUSTOMER_VIEW_DESCRIPTION, ResolveCustomerConflictBody, UpdateCustomerBody } from '@sync-hub/contracts';
import { ApiKeyGuard } from '@sync-hub/platform';
import type { Request, Response } from 'express';
import { passThrough } from '../accounting/accounting-proxy.controller';
import { CrmClient, CUSTOMER_RUN_TIMEOUT_MS } from './crm.client';

const RUN_ANSWER = `The run ran: { run_id, run_status (completed | failed), reason (the run's error when it failed), customer: ${CUSTOMER_VIEW_DESCRIPTION} as it is now }`;
const RUN_BUSY =
  'Not run: a Robaws customer job (incremental, full or push) holds their shared lease. The body also carries run_id (the run, recorded skipped), run_status skipped, reason overlap and the customer';
const RUN_TIMEOUT = `crm-sync did not answer within ${CUSTOMER_RUN_TIMEOUT_MS / 60_000} minutes; the run may still be going (see GET /api/runs)`;

function searchOf(req: Request): string {
  return req.originalUrl.includes('?') ? req.originalUrl.slice(req.originalUrl.indexOf('?')) : '';
}

/**
 * The Robaws customers, forwarded to crm-sync (which owns robaws_customers and validates queries and bodies).
 * Documented here so /docs shows the whole public API; answers come back as crm-sync gave them.
 */
@ApiTags('crm customers')
@ApiBearerAuth()
@Controller('api/crm/customers')
@UseGuards(ApiKeyGuard)
export class CrmProxyController {
  constructor(private readonly crm: CrmClient) {}

  @Get()
  @ApiOperation({
    summary:
      'Robaws customers by name, filtered by role, a search (name, email, phone, VAT) and dirty; cursor-paginated (pass next_cursor as cursor)',
  })
  @ApiQuery({ name: 'role', required: false, description: 'exact, e.g. CUSTOMER' })
  @ApiQuery({
    name: 'q',
    required: false,
    description:
      'part of the name or email; a phone number as typed or normalised to E.164 ("0470 12 34 56" finds +32470123456); the VAT number normalised',
  })
  @ApiQuery({ name: 'dirty', required: false, enum: ['true', 'false'], description: 'a local edit or a conflict' })
  @ApiQuery({ name: 'cursor', required: false, description: 'next_cursor of the previous page' })
  @ApiQuery({ name: 'limit', required: false, description: '1–500, default 50' })
  @ApiResponse({
    status: 200,
    description: `{ data: CustomerView[], next_cursor: string | null }. ${CUSTOMER_VIEW_DESCRIPTION}`,
  })
  @ApiResponse({ status: 400, description: 'fields names each bad query field (a cursor this API did not give out)' })
  async list(@Req() req: Request, @Res() res: Response): Promise<void> {
    passThrough(res, await this.crm.customers(searchOf(req), req.headers.authorization));
  }

  @Get('duplicates')
  @ApiOperation({
    summary:
      'Possible duplicates: groups of customers sharing a normalised VAT number or an email (those deleted in Robaws left out)',
  })
  @ApiQuery({ name: 'limit', required: false, description: 'groups of each kind, 1–500, default 100' })
  @ApiResponse({
    status: 200,
    description: `{ data: [{ kind (vat_number | email), value, customers: CustomerView[] }] }. ${CUSTOMER_VIEW_DESCRIPTION}`,
  })
  async duplicates(@Req() req: Request, @Res() res: Response): Promise<void> {
    passThrough(res, await this.crm.duplicates(searchOf(req), req.headers.authorization));
  }

  @Get(':id')
  @ApiOperation({ summary: 'One customer by its Robaws id, with its pending local edit and conflict' })
  @ApiParam({ name: 'id', type: Number })
  @ApiResponse({ status: 200, description: CUSTOMER_VIEW_DESCRIPTION })
  @ApiResponse({ status: 404, description: 'unknown customer' })
  async get(@Param('id') id: string, @Req() req: Request, @Res() res: Response): Promise<void> {
    passThrough(res, await this.crm.customer(id, req.headers.authorization));
  }

  @Patch(':id')
  @ApiOperation({
    summary:
      'Edit the customer here: validated and normalised like the pull (E.164 phones, normalised VAT), written, and marked dirty until pushed; a field set back to its Robaws value leaves the edit',
  })
  @ApiParam({ name: 'id', type: Number })
  @ApiBody({ type: UpdateCustomerBody })
  @ApiResponse({ status: 200, description: CUSTOMER_VIEW_DESCRIPTION })
  @ApiResponse({
    status: 400,
    description:
      'fields names each bad field (unknown fields, a value that is not a string or null, an empty name, a bad email, a phone number that does not parse, an invalid VAT number, too long); nothing is written',
  })
  @ApiResponse({ status: 404, description: 'unknown customer' })
  @ApiResponse({
    status: 409,
    description: 'the customer has an open conflict (resolve it first) or was deleted in Robaws',
  })
  async update(@Param('id') id: string, @Req() req: Request, @Res() res: Response): Promise<void> {
    passThrough(res, await this.crm.update(id, req.body, req.headers.authorization));
  }

  @Post(':id/sync')
  @HttpCode(200)
  @ApiOperation({
    summary:
      'Pulls this customer from Robaws now (robaws.customers.incremental for this client alone, a manual run in the run history); answers when the run has ended',
  })
  @ApiParam({ name: 'id', type: Number })
  @ApiResponse({ status: 200, description: RUN_ANSWER })
  @ApiResponse({ status: 404, description: 'not a customer here nor a client in Robaws' })
  @ApiResponse({ status: 409, description: RUN_BUSY })
  @ApiResponse({ status: 504, description: RUN_TIMEOUT })
  async sync(@Param('id') id: string, @Req() req: Request, @Res() res: Response): Promise<void> {
    passThrough(res, await this.crm.run(id, 'sync', req.headers.authorization));
  }

  @Post(':id/push')
  @HttpCode(200)
  @ApiOperation({
    summary:
      "Pushes this customer's local edit to Robaws now (robaws.customers.push for it alone, a manual run in the run history); answers when the run has ended",
  })
  @ApiParam({ name: 'id', type: Number })
  @ApiResponse({ status: 200, description: RUN_ANSWER })
  @ApiResponse({ status: 404, description: 'unknown customer' })
  @ApiResponse({ status: 409, description: RUN_BUSY })
  @ApiResponse({ status: 504, description: RUN_TIMEOUT })
  async push(@Param('id') id: string, @Req() req: Request, @Res() res: Response): Promise<void> {
    passThrough(res, await this.crm.run(id, 'push', req.headers.authorization));
  }

  @Post(':id/resolve')
  @HttpCode(200)
  @ApiOperation({
    summary:
      "Ends a conflict: keep local (the edit stays, now based on Robaws's current version, and the next push sends it) or keep remote (Robaws's version, the edit dropped)",
  })
  @ApiParam({ name: 'id', type: Number })
  @ApiBody({ type: ResolveCustomerConflictBody })
  @ApiResponse({ status: 200, description: CUSTOMER_VIEW_DESCRIPTION })
  @ApiResponse({ status: 400, description: 'keep is not local or remote' })
  @ApiResponse({ status: 404, description: 'unknown customer' })
  @ApiResponse({ status: 409, description: 'the customer has no conflict' })
  async resolve(@Param('id') id: string, @Req() req: Request, @Res() res: Response): Promise<void> {
    passThrough(res, await this.crm.resolve(id, req.body, req.headers.authorization));
  }
}
