import { Controller, Get, HttpCode, ServiceUnavailableException } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { BusReadiness } from './bus-readiness';

/** Liveness is the process; readiness is this app's own database and bus, never an upstream. */
@Controller('health')
export class HealthController {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly bus: BusReadiness,
  ) {}

  @Get('live')
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  @Get('ready')
  @HttpCode(200)
  async ready(): Promise<{ status: 'ok'; checks: Record<string, string> }> {
    const checks: Record<string, string> = {};
    try {
      await this.dataSource.query('SELECT 1');
      checks.database = 'ok';
    } catch (err) {
      checks.database = `down: ${(err as Error).message}`;
    }
    const busProblems = this.bus.problems();
    checks.bus = busProblems.length === 0 ? 'ok' : busProblems.join('; ');
    if (Object.values(checks).some((c) => c !== 'ok')) {
      throw new ServiceUnavailableException({ status: 'unavailable', checks });
    }
    return { status: 'ok', checks };
  }
}
