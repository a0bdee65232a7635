import { Injectable } from '@nestjs/common';
import { RunStats, SPLYNX_CUSTOMERS, SPLYNX_CUSTOMERS_FULL, SplynxCustomersParams } from '@sync-hub/contracts';
import { JobContext, JobHandler, SyncJob } from '@sync-hub/runs';
import { CustomerSyncService } from './customer-sync.service';

/**
 * splynx/customers (seed 000, hourly): the customers changed since the watermark. Its lease, time limit, retries and
 * params are its registry entry, SPLYNX_CUSTOMERS.
 */
@Injectable()
@JobHandler(SPLYNX_CUSTOMERS)
export class CustomersSyncJob implements SyncJob<SplynxCustomersParams> {
  constructor(private readonly sync: CustomerSyncService) {}

  run({ tick, params, signal }: JobContext<SplynxCustomersParams>): Promise<RunStats> {
    const { limit, dryRun } = params;
    return this.sync.run({ mode: 'incremental', limit, dryRun, signal, runId: tick.runId });
  }
}

/** splynx/customers.full (daily 02:30): every customer; the only run that deactivates the vanished ones. */
@Injectable()
@JobHandler(SPLYNX_CUSTOMERS_FULL)
export class CustomersFullSyncJob implements SyncJob<SplynxCustomersParams> {
  constructor(private readonly sync: CustomerSyncService) {}

  run({ tick, params, signal }: JobContext<SplynxCustomersParams>): Promise<RunStats> {
    return this.sync.run({ mode: 'full', limit: params.limit, dryRun: params.dryRun, signal, runId: tick.runId });
  }
}
