import { Module } from '@nestjs/common';
import { PlatformModule } from '@sync-hub/platform';
import { RunsModule } from '@sync-hub/runs';

/**
 * The feature modules of crm-sync; the embedded host mounts the same list. No crm job is built yet: the app answers
 * `ping` and fails every other crm job as JOB_NOT_SUPPORTED, and the scheduler keeps their schedules disabled.
 */
export const CRM_SYNC_FEATURES = [RunsModule.forDomain('crm', { jobs: [] })];

@Module({ imports: [PlatformModule.forApp('crm-sync'), ...CRM_SYNC_FEATURES] })
export class CrmSyncModule {}
