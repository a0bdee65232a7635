import {
  Body,
  ConflictException,
  Controller,
  Get,
  HttpCode,
  NotFoundException,
  Param,
  ParseIntPipe,
  Patch,
  Post,
  Query,
  UseGuards,
} from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiOperation, ApiParam, ApiResponse, ApiTags } from '@nestjs/swagger';
import {
  CUSTOMER_VIEW_DESCRIPTION,
  CustomerPage,
  CustomerRunView,
  CustomerView,
  DuplicatesView,
  ListCustomersQuery,
  ListDuplicatesQuery,
  ResolveCustomerConflictBody,
  UpdateCustomerBody,
} from '@sync-hub/contracts';
import { ApiKeyGuard } from '@sync-hub/platform';
import { CustomerRunResult, CustomersApiService } from './customers-api.service';

const customerId = new ParseIntPipe({ exceptionFactory: () => new NotFoundException('customer not found') });

export const RUN_ANSWER = `The run ran: { run_id, run_status (completed | failed), reason (the run's error when it failed), customer: ${CUSTOMER_VIEW_DESCRIPTION} as it is now }`;
export const RUN_BUSY =
  'Not run: a Robaws customer job (incremental, full or push) holds their shared lease. The body also carries run_id (the run, recorded skipped), run_status skipped, reason overlap and the customer';
export const PATCH_BAD =
  'fields names each bad field (unknown fields, a value that is not a string or null, an empty name, a bad email, a phone number that does not parse, an invalid VAT number, too long); nothing is written';

/** The Robaws customers crm-sync keeps (issue 11): search, one customer, local edits, sync and push of one, conflicts. */
@ApiTags('crm customers')
@ApiBearerAuth()
@Controller('api/crm/customers')
@UseGuards(ApiKeyGuard)
export class CustomersController {
  constructor(private readonly customers: CustomersApiService) {}

  @Get()
  @ApiOperation({
    summary:
      'Robaws customers by name, filtered by role, a search (name, email, phone, VAT) and dirty; cursor-paginated (pass next_cursor as cursor)',
  })
  @ApiResponse({
    status: 200,
    description: `{ data: CustomerView[], next_cursor: string | null }. ${CUSTOMER_VIEW_DESCRIPTION}`,
  })
  @ApiResponse({ status: 400, description: 'fields names each bad query field (a cursor this API did not give out)' })
  list(@Query() query: ListCustomersQuery): Promise<CustomerPage> {
    return this.customers.list(query);
  }

  @Get('duplicates')
  @ApiOperation({
    summary:
      'Possible duplicates: groups of customers sharing a normalised VAT number or an email (those deleted in Robaws left out)',
  })
  @ApiResponse({
    status: 200,
    description: `{ data: [{ kind (vat_number | email), value, customers: CustomerView[] }] }. ${CUSTOMER_VIEW_DESCRIPTION}`,
  })
  duplicates(@Query() query: ListDuplicatesQuery): Promise<DuplicatesView> {
    return this.customers.duplicates(query);
  }

  @Get(':id')
  @ApiOperation({ summary: 'One customer by its Robaws id, with its pending local edit and conflict' })
  @ApiParam({ name: 'id', type: Number })
  @ApiResponse({ status: 200, description: CUSTOMER_VIEW_DESCRIPTION })
  @ApiResponse({ status: 404, description: 'unknown customer' })
  get(@Param('id', customerId) id: number): Promise<CustomerView> {
    return this.customers.get(id);
  }

  @Patch(':id')
  @ApiOperation({
    summary:
      'Edit the customer here: validated and normalised like the pull (E.164 phones, normalised VAT), written, and marked dirty until pushed; a field set back to its Robaws value leaves the edit',
  })
  @ApiParam({ name: 'id', type: Number })
  @ApiBody({ type: UpdateCustomerBody })
  @ApiResponse({ status: 200, description: CUSTOMER_VIEW_DESCRIPTION })
  @ApiResponse({ status: 400, description: PATCH_BAD })
  @ApiResponse({ status: 404, description: 'unknown customer' })
  @ApiResponse({
    status: 409,
    description: 'the customer has an open conflict (resolve it first) or was deleted in Robaws',
  })
  update(@Param('id', customerId) id: number, @Body() body: unknown): Promise<CustomerView> {
    return this.customers.update(id, body);
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
  async sync(@Param('id', customerId) id: number): Promise<CustomerRunView> {
    return answer(await this.customers.sync(id));
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
  async push(@Param('id', customerId) id: number): Promise<CustomerRunView> {
    return answer(await this.customers.pushOne(id));
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
  resolve(@Param('id', customerId) id: number, @Body() body: ResolveCustomerConflictBody): Promise<CustomerView> {
    return this.customers.resolve(id, body.keep);
  }
}

function answer(result: CustomerRunResult): CustomerRunView {
  if (result.kind === 'ran') return result.view;
  throw new ConflictException({
    statusCode: 409,
    error: 'Conflict',
    message: result.message,
    run_id: result.runId,
    run_status: 'skipped',
    reason: result.reason,
    customer: result.customer,
  });
}
