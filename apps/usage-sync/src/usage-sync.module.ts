import { Module } from '@nestjs/common';
import { PlatformModule } from '@sync-hub/platform';
import { RunsModule } from '@sync-hub/runs';

/**
 * The feature modules of usage-sync; the embedded host mounts the same list. No usage job is built yet: the app answers
 * `ping` and fails every other usage job as JOB_NOT_SUPPORTED, and the scheduler keeps their schedules disabled.
 */
export const USAGE_SYNC_FEATURES = [RunsModule.forDomain('usage', { jobs: [] })];

@Module({ imports: [PlatformModule.forApp('usage-sync'), ...USAGE_SYNC_FEATURES] })
export class UsageSyncModule {}
