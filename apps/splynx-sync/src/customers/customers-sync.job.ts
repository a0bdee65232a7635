import { Injectable } from '@nestjs/common';
import { RunStats, SPLYNX_CUSTOMERS, SplynxCustomersParams } from '@sync-hub/contracts';
import { JobContext, JobHandler, SyncJob } from '@sync-hub/runs';
import { CustomerSyncService } from './customer-sync.service';

/** splynx/customers (seed 000): its lease, time limit, retries and params are its registry entry, SPLYNX_CUSTOMERS. */
@Injectable()
@JobHandler(SPLYNX_CUSTOMERS)
export class CustomersSyncJob implements SyncJob<SplynxCustomersParams> {
  constructor(private readonly sync: CustomerSyncService) {}

  run({ params, signal }: JobContext<SplynxCustomersParams>): Promise<RunStats> {
    return this.sync.run({ limit: params.limit, dryRun: params.dryRun, signal });
  }
}
