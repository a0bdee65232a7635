import { Controller } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { CompanyChangedPayload, Topic } from '@sync-hub/contracts';
import { BusContext, MessageProcessor } from '@sync-hub/messaging';
import { CompanyProjectionService } from './company-projection.service';

/** Consumes the scheduler's compacted company topic into accounting-sync's projection. */
@Controller()
export class CompanyChangesController {
  constructor(
    private readonly processor: MessageProcessor,
    private readonly companies: CompanyProjectionService,
  ) {}

  @EventPattern(Topic.CompanyChanged)
  onCompanyChanged(@Payload() value: unknown, @Ctx() ctx: BusContext): Promise<void> {
    return this.processor.processCompacted(
      value,
      ctx,
      CompanyChangedPayload,
      (m) => this.companies.apply(m.payload),
      async (key) => {
        if (!/^\d+$/.test(key)) throw new Error(`a tombstone's key must be a company id, got "${key}"`);
        await this.companies.remove(Number(key));
      },
    );
  }
}
