import {
  Body,
  ConflictException,
  Controller,
  Delete,
  Get,
  HttpCode,
  NotFoundException,
  Param,
  ParseIntPipe,
  Put,
  Query,
  Res,
  UseGuards,
} from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiExcludeEndpoint, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { AuthorizeView, ConfigurationError, ConnectionView, PutDevposConnectionDto } from '@sync-hub/contracts';
import { ApiKeyGuard } from '@sync-hub/platform';
import type { Response } from 'express';
import { CallbackQuery, ConnectionsService } from './connections.service';

const companyId = new ParseIntPipe({ exceptionFactory: () => new NotFoundException('company not found') });

/** A configuration gap (no QuickBooks app credentials) is the operator's to fix: 409 with what to set. */
async function configured<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    if (err instanceof ConfigurationError) throw new ConflictException(err.message);
    throw err;
  }
}

/** A company's connections: status and expiries (never secrets), the DevPos login, disconnecting, connecting QuickBooks. */
@ApiTags('connections')
@ApiBearerAuth()
@Controller('api/companies/:companyId/connections')
@UseGuards(ApiKeyGuard)
export class ConnectionsController {
  constructor(private readonly connections: ConnectionsService) {}

  @Get()
  @ApiOperation({ summary: "Both providers' connections of the company: status, settings and expiries, never secrets" })
  @ApiResponse({ status: 404, description: 'unknown company' })
  list(@Param('companyId', companyId) id: number): Promise<ConnectionView[]> {
    return this.connections.list(id);
  }

  @Get('quickbooks/authorize')
  @ApiOperation({
    summary: "{ url } of Intuit's authorize page, with a signed state bound to the company (15 minutes, one use)",
  })
  @ApiResponse({ status: 409, description: 'QBO_CLIENT_ID / QBO_CLIENT_SECRET are not set' })
  authorize(@Param('companyId', companyId) id: number): Promise<AuthorizeView> {
    return configured(() => this.connections.authorize(id));
  }

  @Put('devpos')
  @ApiOperation({
    summary: "Store the company's DevPos login (tried at once: the answer's status says whether DevPos took it)",
  })
  @ApiBody({ type: PutDevposConnectionDto })
  @ApiResponse({ status: 400, description: 'fields names each bad field' })
  putDevpos(@Param('companyId', companyId) id: number, @Body() body: PutDevposConnectionDto): Promise<ConnectionView> {
    return configured(() => this.connections.putDevpos(id, body));
  }

  @Delete(':provider')
  @HttpCode(204)
  @ApiOperation({ summary: 'Disconnect: QuickBooks tokens are revoked at Intuit, then forgotten (204)' })
  @ApiResponse({ status: 502, description: 'Intuit did not confirm the revocation; nothing was forgotten' })
  async disconnect(@Param('companyId', companyId) id: number, @Param('provider') provider: string): Promise<void> {
    await configured(() => this.connections.disconnect(id, provider));
  }
}

/** Intuit's redirect back (public: the signed one-use state is the authentication). */
@Controller('oauth/quickbooks')
export class QuickBooksCallbackController {
  constructor(private readonly connections: ConnectionsService) {}

  @Get('callback')
  @ApiExcludeEndpoint()
  async callback(@Query() query: CallbackQuery, @Res() res: Response): Promise<void> {
    const pick = (v: unknown) => (typeof v === 'string' ? v : undefined);
    const location = await this.connections.callback({
      code: pick(query.code),
      realmId: pick(query.realmId),
      state: pick(query.state),
      error: pick(query.error),
    });
    res.redirect(302, location);
  }
}
