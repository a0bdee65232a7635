import { Controller, OnModuleInit } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { ConfigurationError, Topic } from '@sync-hub/contracts';
import { BusContext } from '@sync-hub/messaging';
import { JobContext, RunExecutor } from '@sync-hub/platform';
import { CustomerSyncService } from './customer-sync.service';

/** Reads optional tick params: `limit` (positive integer) and `dryRun` (boolean). */
export function customerSyncParams(params: Record<string, unknown> | undefined): { limit?: number; dryRun?: boolean } {
  const limit = params?.limit;
  if (limit !== undefined && !(Number.isInteger(limit) && (limit as number) > 0)) {
    throw new ConfigurationError(
      'INVALID_PARAMS',
      `params.limit must be a positive integer, got ${JSON.stringify(limit)}`,
    );
  }
  const dryRun = params?.dryRun;
  if (dryRun !== undefined && typeof dryRun !== 'boolean') {
    throw new ConfigurationError(
      'INVALID_PARAMS',
      `params.dryRun must be true or false, got ${JSON.stringify(dryRun)}`,
    );
  }
  return { limit: limit as number | undefined, dryRun };
}

@Controller()
export class CustomersController implements OnModuleInit {
  constructor(
    private readonly runs: RunExecutor,
    private readonly sync: CustomerSyncService,
  ) {}

  onModuleInit(): void {
    this.runs.registerJobs('splynx', {
      customers: ({ tick }: JobContext) => this.sync.run(customerSyncParams(tick.params)),
    });
  }

  @EventPattern(Topic.SplynxRequested)
  onTick(@Payload() value: unknown, @Ctx() ctx: BusContext): Promise<void> {
    return this.runs.handleTick(value, ctx);
  }
}
