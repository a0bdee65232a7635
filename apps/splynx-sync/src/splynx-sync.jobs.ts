import { RunsModule } from '@sync-hub/runs';
import { CustomersModule } from './customers/customers.module';
import { CustomersFullSyncJob, CustomersSyncJob } from './customers/customers-sync.job';

/** The jobs splynx-sync runs, each a handler class bound to its entry in the job registry (libs/contracts/src/jobs). */
export const SplynxJobsModule = RunsModule.forDomain('splynx', {
  jobs: [CustomersSyncJob, CustomersFullSyncJob],
  imports: [CustomersModule],
});
