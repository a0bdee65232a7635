import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { BusReadiness } from '../bus-readiness';
import { HealthController } from './health.controller';
import { ReadinessIndicators } from './readiness.indicators';

@Module({
  imports: [TerminusModule.forRoot({ errorLogStyle: 'json' })],
  controllers: [HealthController],
  providers: [BusReadiness, ReadinessIndicators],
  exports: [BusReadiness],
})
export class HealthModule {}
