import { ExecutionContext, Injectable } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { ThrottlerGuard, ThrottlerModule } from '@nestjs/throttler';
import { APP_CONFIG, AppConfig } from '@sync-hub/config';

/** Rate limit per API key on /api; health, metrics, docs and the dashboard are not limited. */
@Injectable()
export class ApiKeyThrottlerGuard extends ThrottlerGuard {
  protected override async getTracker(req: { headers?: { authorization?: string }; ip?: string }): Promise<string> {
    return req.headers?.authorization ?? req.ip ?? 'anonymous';
  }

  protected override async shouldSkip(context: ExecutionContext): Promise<boolean> {
    const req = context.switchToHttp().getRequest<{ path?: string; url?: string }>();
    return context.getType() !== 'http' || !String(req.path ?? req.url ?? '').startsWith('/api');
  }
}

/** The limiter's name: `@SkipThrottle({ [PER_KEY_THROTTLER]: true })` exempts a route (signed webhooks carry no key). */
export const PER_KEY_THROTTLER = 'per-key';

export const GATEWAY_THROTTLING = [
  ThrottlerModule.forRootAsync({
    inject: [APP_CONFIG],
    useFactory: (c: AppConfig) => [{ name: PER_KEY_THROTTLER, ttl: 60000, limit: c.gateway.rateLimitPerMinute }],
  }),
];
export const GATEWAY_THROTTLE_GUARD = { provide: APP_GUARD, useClass: ApiKeyThrottlerGuard };
