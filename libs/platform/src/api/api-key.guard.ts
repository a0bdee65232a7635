import { CanActivate, ExecutionContext, Inject, Injectable, UnauthorizedException } from '@nestjs/common';
import { timingSafeEqual } from 'node:crypto';
import { APP_CONFIG, AppConfig } from '@sync-hub/config';

/** `/api` routes need `Authorization: Bearer <key>` with a key from GATEWAY_API_KEYS. */
@Injectable()
export class ApiKeyGuard implements CanActivate {
  private readonly keys: Buffer[];

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.keys = config.gatewayApiKeys.map((k) => Buffer.from(k));
  }

  canActivate(context: ExecutionContext): boolean {
    // Node folds a repeated Authorization header into one string; anything else is no key.
    const raw = context.switchToHttp().getRequest<{ headers: Record<string, unknown> }>().headers.authorization;
    const header = typeof raw === 'string' ? raw : '';
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    if (!match) throw new UnauthorizedException('missing Authorization: Bearer <api key>');
    const given = Buffer.from(match[1]);
    if (!this.keys.some((k) => k.length === given.length && timingSafeEqual(k, given)))
      throw new UnauthorizedException('unknown API key');
    return true;
  }
}
