import { Injectable } from '@nestjs/common';
import { HealthIndicatorResult, HealthIndicatorService, TypeOrmHealthIndicator } from '@nestjs/terminus';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, MigrationExecutor } from 'typeorm';
import { BusReadiness } from '../bus-readiness';

/** Each readiness check answers within this, so a dead database makes the app unready in seconds, not minutes. */
export const READINESS_CHECK_TIMEOUT_MS = 3000;

/**
 * What makes this app ready for traffic: its own database (a ping), its bus (a broker answers; consumer joined its
 * group), and a schema with no migration of this version pending. Never an upstream: an upstream outage is a failed run,
 * not a reason to take the app out of its Service.
 */
@Injectable()
export class ReadinessIndicators {
  constructor(
    private readonly health: HealthIndicatorService,
    private readonly typeorm: TypeOrmHealthIndicator,
    private readonly bus: BusReadiness,
    @InjectDataSource() private readonly dataSource: DataSource,
  ) {}

  database(): PromiseLike<HealthIndicatorResult<'database'>> {
    return this.typeorm.pingCheck('database', { connection: this.dataSource, timeout: READINESS_CHECK_TIMEOUT_MS });
  }

  async busConnection(): Promise<HealthIndicatorResult<'bus'>> {
    const check = this.health.check('bus');
    const problems = await this.bus.problems();
    return problems.length === 0 ? check.up() : check.down({ message: problems.join('; ') });
  }

  /** Migrations this code knows that the database has not run (a rollout whose migrate Job has not finished). */
  migrations(): PromiseLike<HealthIndicatorResult<'migrations'>> {
    return this.health
      .check('migrations')
      .attempt(async () => {
        const pending = await new MigrationExecutor(this.dataSource).getPendingMigrations();
        if (pending.length > 0) {
          throw new Error(
            `${pending.length} pending: ${pending.map((m) => m.name).join(', ')}; run \`npm run migrate\``,
          );
        }
        return { applied: this.dataSource.migrations.length };
      })
      .withTimeout(READINESS_CHECK_TIMEOUT_MS);
  }
}
