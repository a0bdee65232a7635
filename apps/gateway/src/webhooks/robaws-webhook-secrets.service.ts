import { Inject, Injectable, Logger } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { APP_CONFIG, AppConfig, ConfigValidationError } from '@sync-hub/config';
import {
  openWebhookSecret,
  resolveSecretsKey,
  RobawsWebhookEndpointRow,
  SecretBox,
  SecretDecryptionError,
} from '@sync-hub/persistence';
import { Repository } from 'typeorm';

/** One secret a delivery may be signed with, and where it came from (an id, never the value, for the logs). */
export interface WebhookSecret {
  source: string;
  secret: string;
}

/**
 * The secrets a Robaws delivery may be signed with: ROBAWS_WEBHOOK_SECRET, and the secret of every endpoint
 * `robaws:webhooks:register` stored (sealed with SECRETS_KEY). The stored ones are read on each delivery (a handful of
 * rows), so an endpoint registered or deleted while the gateway runs counts at once; each sealed value is opened
 * once. Without SECRETS_KEY in the distributed mode the stored secrets cannot be opened: that is said once, naming
 * the variable, and only ROBAWS_WEBHOOK_SECRET is used.
 */
@Injectable()
export class RobawsWebhookSecrets {
  private readonly logger = new Logger(RobawsWebhookSecrets.name);
  private readonly envSecret: string | null;
  private readonly box: SecretBox | null;
  private readonly boxProblem: string | null;
  /** Opened secrets by endpoint id and sealed value (a re-registered id with a new secret is opened again). */
  private readonly opened = new Map<string, string>();
  private readonly warned = new Set<string>();

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    @InjectRepository(RobawsWebhookEndpointRow) private readonly endpoints: Repository<RobawsWebhookEndpointRow>,
  ) {
    this.envSecret = config.crm.robaws.webhookSecret || null;
    let box: SecretBox | null = null;
    let problem: string | null = null;
    try {
      box = new SecretBox(resolveSecretsKey(config));
    } catch (err) {
      if (!(err instanceof ConfigValidationError)) throw err;
      problem = 'SECRETS_KEY is not set';
    }
    this.box = box;
    this.boxProblem = problem;
  }

  async current(): Promise<WebhookSecret[]> {
    const secrets: WebhookSecret[] = [];
    if (this.envSecret) secrets.push({ source: 'ROBAWS_WEBHOOK_SECRET', secret: this.envSecret });
    const rows = await this.endpoints.find({ select: { endpointId: true, secretSealed: true } });
    for (const row of rows) {
      const secret = this.open(row);
      if (secret) secrets.push({ source: `endpoint ${row.endpointId}`, secret });
    }
    return secrets;
  }

  private open(row: Pick<RobawsWebhookEndpointRow, 'endpointId' | 'secretSealed'>): string | null {
    const cacheKey = `${row.endpointId}\n${row.secretSealed}`;
    const known = this.opened.get(cacheKey);
    if (known !== undefined) return known;
    if (!this.box) {
      this.warnOnce(
        'no-key',
        `Robaws webhook endpoint ${row.endpointId} has a stored secret, but ${this.boxProblem}: its deliveries are refused until the gateway gets the SECRETS_KEY robaws:webhooks:register used`,
      );
      return null;
    }
    try {
      const secret = openWebhookSecret(this.box, row);
      this.opened.set(cacheKey, secret);
      return secret;
    } catch (err) {
      if (!(err instanceof SecretDecryptionError)) throw err;
      this.warnOnce(
        cacheKey,
        `the stored secret of Robaws webhook endpoint ${row.endpointId} does not open with this SECRETS_KEY: its deliveries are refused`,
      );
      return null;
    }
  }

  private warnOnce(key: string, message: string): void {
    if (this.warned.has(key)) return;
    this.warned.add(key);
    this.logger.warn(message);
  }
}
