import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { ClockModule } from '../clock/clock.module';
import { CompaniesController } from './companies.controller';
import { CompaniesService } from './companies.service';
import { Company } from './company.entity';

/** Companies and their API (GET/POST /api/companies, GET/PATCH /api/companies/:id); also what the CLI lists. */
@Module({
  imports: [TypeOrmModule.forFeature([Company]), ClockModule],
  controllers: [CompaniesController],
  providers: [CompaniesService],
  exports: [CompaniesService],
})
export class CompaniesModule {}
