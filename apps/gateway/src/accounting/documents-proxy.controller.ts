import { Controller, Get, HttpCode, Param, Post, Req, Res, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiParam, ApiQuery, ApiResponse, ApiTags } from '@nestjs/swagger';
import { DOCUMENT_STATUSES, DOCUMENT_TYPES, DOCUMENT_VIEW_DESCRIPTION } from '@sync-hub/contracts';
import { ApiKeyGuard } from '@sync-hub/platform';
import type { Request, Response } from 'express';
import { passThrough } from './accounting-proxy.controller';
import { AccountingClient, RETRY_TIMEOUT_MS } from './accounting.client';

/**
 * A company's DevPos documents and what they became in QuickBooks, forwarded to accounting-sync (which owns them,
 * validates the query and answers 404 for a company it does not know). Documented here so /docs shows the whole
 * public API; answers come back as accounting-sync gave them.
 */
@ApiTags('documents')
@ApiBearerAuth()
@Controller('api/companies/:companyId/documents')
@UseGuards(ApiKeyGuard)
export class DocumentsProxyController {
  constructor(private readonly accounting: AccountingClient) {}

  @Get()
  @ApiOperation({
    summary:
      "The company's documents, newest transaction date first (then newest row), filtered; cursor-paginated (pass next_cursor as cursor)",
  })
  @ApiParam({ name: 'companyId', type: Number })
  @ApiQuery({ name: 'status', required: false, enum: DOCUMENT_STATUSES })
  @ApiQuery({ name: 'type', required: false, enum: DOCUMENT_TYPES })
  @ApiQuery({ name: 'from', required: false, description: 'dated (TxnDate, company-local) on or after, YYYY-MM-DD' })
  @ApiQuery({ name: 'to', required: false, description: 'dated on or before, YYYY-MM-DD' })
  @ApiQuery({ name: 'cursor', required: false, description: 'next_cursor of the previous page' })
  @ApiQuery({ name: 'limit', required: false, description: '1–500, default 50' })
  @ApiResponse({
    status: 200,
    description: `{ data: DocumentView[], next_cursor: string | null }. ${DOCUMENT_VIEW_DESCRIPTION}`,
  })
  @ApiResponse({ status: 400, description: 'fields names each bad query field (a cursor this API did not give out)' })
  @ApiResponse({ status: 404, description: 'unknown company' })
  async list(@Param('companyId') companyId: string, @Req() req: Request, @Res() res: Response): Promise<void> {
    const search = req.originalUrl.includes('?') ? req.originalUrl.slice(req.originalUrl.indexOf('?')) : '';
    passThrough(res, await this.accounting.documents(companyId, search, req.headers.authorization));
  }

  @Get(':eic')
  @ApiOperation({ summary: 'One document by its EIC: its QuickBooks entity and id, status and last error' })
  @ApiParam({ name: 'companyId', type: Number })
  @ApiResponse({ status: 200, description: DOCUMENT_VIEW_DESCRIPTION })
  @ApiResponse({ status: 404, description: 'unknown company or document' })
  async get(
    @Param('companyId') companyId: string,
    @Param('eic') eic: string,
    @Req() req: Request,
    @Res() res: Response,
  ): Promise<void> {
    passThrough(res, await this.accounting.document(companyId, eic, req.headers.authorization));
  }

  @Post(':eic/retry')
  @HttpCode(200)
  @ApiOperation({
    summary:
      "Runs the document's job (sales, or bills for a purchase) again for this document alone, now, as a manual run in the run history; answers when the run has ended",
  })
  @ApiParam({ name: 'companyId', type: Number })
  @ApiResponse({
    status: 200,
    description: `The run ran: { run_id, run_status (completed | failed), reason (the run's error; or why the document was not in DevPos's list), document: ${DOCUMENT_VIEW_DESCRIPTION} as it is now }`,
  })
  @ApiResponse({
    status: 409,
    description:
      'Not run: a document sync (sales, bills or full) is running for the company. The body also carries run_id (the run, recorded skipped), run_status skipped, reason overlap and the document',
  })
  @ApiResponse({ status: 404, description: 'unknown company or document' })
  @ApiResponse({
    status: 504,
    description: `accounting-sync did not answer within ${RETRY_TIMEOUT_MS / 60_000} minutes; the run may still be going (see GET /api/runs)`,
  })
  async retry(
    @Param('companyId') companyId: string,
    @Param('eic') eic: string,
    @Req() req: Request,
    @Res() res: Response,
  ): Promise<void> {
    passThrough(res, await this.accounting.retryDocument(companyId, eic, req.headers.authorization));
  }
}
