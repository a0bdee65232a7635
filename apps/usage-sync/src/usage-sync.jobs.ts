import { RunsModule } from '@sync-hub/runs';
import { ResellerUsageJob } from './sync/reseller-usage.job';
import { ResellerUsageModule } from './sync/reseller-usage.module';

/** The jobs usage-sync runs, each a handler class bound to its entry in the job registry (libs/contracts/src/jobs). */
export const UsageJobsModule = RunsModule.forDomain('usage', {
  jobs: [ResellerUsageJob],
  imports: [ResellerUsageModule],
});
