import {
  BadRequestException,
  Controller,
  Headers,
  HttpCode,
  Logger,
  Post,
  RawBodyRequest,
  Req,
  Res,
  ServiceUnavailableException,
  UnauthorizedException,
} from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { SkipThrottle } from '@nestjs/throttler';
import {
  parseRobawsDelivery,
  ROBAWS_CLIENT_WEBHOOK_EVENTS,
  RobawsSignatureResult,
  verifyRobawsSignature,
} from '@sync-hub/contracts';
import type { Request, Response } from 'express';
import { PER_KEY_THROTTLER } from '../throttling';
import { RobawsWebhookDeliveries } from './robaws-webhook-deliveries.service';
import { RobawsWebhookSecrets } from './robaws-webhook-secrets.service';

/** Reads the body's bytes: `req.rawBody` when a body parser ran (JSON, form), else the stream itself. */
async function rawBodyOf(req: RawBodyRequest<Request>): Promise<Buffer> {
  if (Buffer.isBuffer(req.rawBody)) return req.rawBody;
  if (!req.readable) return Buffer.alloc(0);
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
  return Buffer.concat(chunks);
}

/**
 * `POST /api/webhooks/robaws/customers`: Robaws's client.created / client.updated deliveries. No API key (Robaws has
 * none to send) and no rate limit: the `Robaws-Signature` over the raw body is the authentication, checked against
 * every known secret. An accepted delivery is stored and its event queued in one transaction, and answered at once
 * (Robaws gives up after 2 s); crm-sync applies it from the bus. Logs carry ids, never the body or a secret.
 */
@ApiExcludeController()
@SkipThrottle({ [PER_KEY_THROTTLER]: true })
@Controller('api/webhooks/robaws')
export class RobawsWebhooksController {
  private readonly logger = new Logger(RobawsWebhooksController.name);

  constructor(
    private readonly secrets: RobawsWebhookSecrets,
    private readonly deliveries: RobawsWebhookDeliveries,
  ) {}

  @Post('customers')
  @HttpCode(200)
  async receive(
    @Req() req: RawBodyRequest<Request>,
    @Res({ passthrough: true }) res: Response,
    @Headers('robaws-signature') signature: string | undefined,
  ): Promise<{ status: string; delivery_id?: string }> {
    const rawBody = await rawBodyOf(req);
    const secrets = await this.secrets.current();
    if (secrets.length === 0) {
      this.logger.warn('a Robaws delivery arrived, but no webhook secret is known: refused');
      throw new ServiceUnavailableException(
        'no Robaws webhook secret is configured: set ROBAWS_WEBHOOK_SECRET or run robaws:webhooks:register',
      );
    }
    // Every secret is tried (no early exit), so the time taken does not say which one matched.
    const results: RobawsSignatureResult[] = secrets.map(({ secret }) =>
      verifyRobawsSignature({ header: signature, rawBody, secret }),
    );
    if (!results.some((r) => r.ok)) {
      const failure = results.find((r) => !r.ok && r.reason === 'stale') ?? results[0];
      const reason = failure.ok ? 'mismatch' : failure.reason;
      this.logger.warn(`refused a Robaws delivery: ${reason}`);
      throw new UnauthorizedException(failure.ok ? 'invalid signature' : failure.message);
    }
    const parsed = parseRobawsDelivery(rawBody);
    if (!parsed.ok) {
      this.logger.warn(`refused a signed Robaws delivery that is not {id, event, data}: ${parsed.problem}`);
      throw new BadRequestException(`not a Robaws delivery: ${parsed.problem}`);
    }
    const { delivery } = parsed;
    if (!(ROBAWS_CLIENT_WEBHOOK_EVENTS as readonly string[]).includes(delivery.event)) {
      this.logger.log(`Robaws delivery ${delivery.id}: event ${delivery.event} is not handled; ignored`);
      return { status: 'ignored', delivery_id: delivery.id };
    }
    const outcome = await this.deliveries.accept(delivery);
    this.logger.log(`Robaws delivery ${delivery.id} (${delivery.event}, client ${delivery.clientId}): ${outcome}`);
    if (outcome === 'accepted') res.status(202);
    return { status: outcome, delivery_id: delivery.id };
  }
}
