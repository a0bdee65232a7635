import {
  ConflictException,
  Controller,
  Get,
  HttpCode,
  NotFoundException,
  Param,
  ParseIntPipe,
  Post,
  Query,
  UseGuards,
} from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiParam, ApiResponse, ApiTags } from '@nestjs/swagger';
import {
  DOCUMENT_VIEW_DESCRIPTION,
  DocumentPage,
  DocumentRetryView,
  DocumentView,
  ListDocumentsQuery,
} from '@sync-hub/contracts';
import { ApiKeyGuard } from '@sync-hub/platform';
import { DocumentsApiService } from './documents-api.service';

const companyId = new ParseIntPipe({ exceptionFactory: () => new NotFoundException('company not found') });

/** A company's DevPos documents and what they became in QuickBooks; the retry of one document (issue 10). */
@ApiTags('documents')
@ApiBearerAuth()
@Controller('api/companies/:companyId/documents')
@UseGuards(ApiKeyGuard)
export class DocumentsController {
  constructor(private readonly documents: DocumentsApiService) {}

  @Get()
  @ApiOperation({
    summary:
      "The company's documents, newest transaction date first, filtered by status, type and date; cursor-paginated (pass next_cursor as cursor)",
  })
  @ApiParam({ name: 'companyId', type: Number })
  @ApiResponse({
    status: 200,
    description: `{ data: DocumentView[], next_cursor: string | null }. ${DOCUMENT_VIEW_DESCRIPTION}`,
  })
  @ApiResponse({ status: 400, description: 'fields names each bad query field (a cursor this API did not give out)' })
  @ApiResponse({ status: 404, description: 'unknown company' })
  list(@Param('companyId', companyId) id: number, @Query() query: ListDocumentsQuery): Promise<DocumentPage> {
    return this.documents.list(id, query);
  }

  @Get(':eic')
  @ApiOperation({ summary: 'One document by its EIC: its QuickBooks entity and id, status and last error' })
  @ApiParam({ name: 'companyId', type: Number })
  @ApiResponse({ status: 200, description: DOCUMENT_VIEW_DESCRIPTION })
  @ApiResponse({ status: 404, description: 'unknown company or document' })
  get(@Param('companyId', companyId) id: number, @Param('eic') eic: string): Promise<DocumentView> {
    return this.documents.get(id, eic);
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
    description: `The run ran: { run_id, run_status (completed | failed), reason (the run's error; or why the document was not in DevPos's list), document: DocumentView as it is now }`,
  })
  @ApiResponse({
    status: 409,
    description:
      'Not run: a document sync (sales, bills or full) is running for the company. The body also carries run_id (the run, recorded skipped), run_status skipped, reason overlap and the document',
  })
  @ApiResponse({ status: 404, description: 'unknown company or document' })
  async retry(@Param('companyId', companyId) id: number, @Param('eic') eic: string): Promise<DocumentRetryView> {
    const result = await this.documents.retry(id, eic);
    if (result.kind === 'busy')
      throw new ConflictException({
        statusCode: 409,
        error: 'Conflict',
        message: result.message,
        run_id: result.runId,
        run_status: 'skipped',
        reason: result.reason,
        document: result.document,
      });
    return result.view;
  }
}
