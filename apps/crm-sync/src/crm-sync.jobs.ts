import { RunsModule } from '@sync-hub/runs';
import { CpExportJob, CpReconcileJob, CpVisitJob } from './cp/cp.jobs';
import { CpExportModule } from './cp/cp.module';
import { RobawsCustomersModule } from './customers/customers.module';
import { RobawsFullJob, RobawsIncrementalJob } from './customers/robaws-pull.jobs';
import { RobawsPushJob } from './customers/robaws-push.job';

/** The jobs crm-sync runs, each a handler class bound to its entry in the job registry (libs/contracts/src/jobs). */
export const CrmJobsModule = RunsModule.forDomain('crm', {
  jobs: [RobawsIncrementalJob, RobawsFullJob, RobawsPushJob, CpExportJob, CpReconcileJob, CpVisitJob],
  imports: [RobawsCustomersModule, CpExportModule],
});
