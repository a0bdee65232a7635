import { Module } from '@nestjs/common';
import { PlatformModule } from '@sync-hub/platform';
import { RunsModule } from '@sync-hub/runs';

/**
 * The feature modules of accounting-sync; the embedded host mounts the same list. No accounting job is built yet: the app answers
 * `ping` and fails every other accounting job as JOB_NOT_SUPPORTED, and the scheduler keeps their schedules disabled.
 */
export const ACCOUNTING_SYNC_FEATURES = [RunsModule.forDomain('accounting', { jobs: [] })];

@Module({ imports: [PlatformModule.forApp('accounting-sync'), ...ACCOUNTING_SYNC_FEATURES] })
export class AccountingSyncModule {}
