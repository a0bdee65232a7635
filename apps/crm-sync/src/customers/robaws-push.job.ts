import { Injectable } from '@nestjs/common';
import { ROBAWS_CUSTOMERS_PUSH, RobawsCustomersParams, RunStats } from '@sync-hub/contracts';
import { JobContext, JobHandler, SyncJob } from '@sync-hub/runs';
import { CustomerPushService } from './customer-push.service';

/** crm/robaws.customers.push (seed 003, daily 22:00): local edits to Robaws. */
@Injectable()
@JobHandler(ROBAWS_CUSTOMERS_PUSH)
export class RobawsPushJob implements SyncJob<RobawsCustomersParams> {
  constructor(private readonly pushes: CustomerPushService) {}

  async run({ tick, params, signal }: JobContext<RobawsCustomersParams>): Promise<RunStats> {
    const { stats } = await this.pushes.push({
      dryRun: params.dryRun,
      limit: params.limit,
      clientId: params.clientId,
      signal,
      runId: tick.runId,
    });
    return stats;
  }
}
