import { Injectable } from '@nestjs/common';
import {
  ROBAWS_CUSTOMERS_FULL,
  ROBAWS_CUSTOMERS_INCREMENTAL,
  RobawsCustomersParams,
  RunStats,
} from '@sync-hub/contracts';
import { JobContext, JobHandler, SyncJob } from '@sync-hub/runs';
import { CustomerPullService, PullMode } from './customer-pull.service';

// Decorated so that its constructor's parameter types are emitted for the subclasses' injection.
@Injectable()
abstract class RobawsPullJob implements SyncJob<RobawsCustomersParams> {
  protected abstract readonly mode: PullMode;

  constructor(private readonly pull: CustomerPullService) {}

  async run({ tick, params, signal }: JobContext<RobawsCustomersParams>): Promise<RunStats> {
    const { stats } = await this.pull.pull({
      mode: this.mode,
      dryRun: params.dryRun,
      limit: params.limit,
      clientId: params.clientId,
      signal,
      runId: tick.runId,
    });
    return stats;
  }
}

/** crm/robaws.customers.incremental (seed 003, daily 03:00): clients changed since the cursor. */
@Injectable()
@JobHandler(ROBAWS_CUSTOMERS_INCREMENTAL)
export class RobawsIncrementalJob extends RobawsPullJob {
  protected readonly mode = 'incremental';
}

/** crm/robaws.customers.full (seed 003, Sunday 04:00): every client; those gone are marked deleted_upstream. */
@Injectable()
@JobHandler(ROBAWS_CUSTOMERS_FULL)
export class RobawsFullJob extends RobawsPullJob {
  protected readonly mode = 'full';
}
