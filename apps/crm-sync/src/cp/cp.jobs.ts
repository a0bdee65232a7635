import { Injectable } from '@nestjs/common';
import { CP_EXPORT, CP_RECONCILE, CP_VISIT, CpExportParams, RunStats } from '@sync-hub/contracts';
import { JobContext, JobHandler, SyncJob } from '@sync-hub/runs';
import { CpExportClient } from './cp-export.client';
import { CpExportService } from './cp-export.service';

/** crm/cp.export (seed 002, every 5 minutes): rounds from each table's cursor until none has more (CP_EXPORT_MAX_LOOPS). */
@Injectable()
@JobHandler(CP_EXPORT)
export class CpExportJob implements SyncJob<CpExportParams> {
  constructor(private readonly cp: CpExportService) {}

  run({ tick, params, signal }: JobContext<CpExportParams>): Promise<RunStats> {
    return this.cp.run({ mode: 'export', maxRounds: params.loops, signal, runId: tick.runId });
  }
}

/** crm/cp.reconcile (Sunday 05:00): every row again from id 0 on its own cursors; the export's cursors stay. */
@Injectable()
@JobHandler(CP_RECONCILE)
export class CpReconcileJob implements SyncJob {
  constructor(private readonly cp: CpExportService) {}

  run({ tick, signal }: JobContext): Promise<RunStats> {
    return this.cp.run({ mode: 'reconcile', signal, runId: tick.runId });
  }
}

/** crm/cp.visit (seed 002, hourly): the sync-visit link; any 2xx is success. */
@Injectable()
@JobHandler(CP_VISIT)
export class CpVisitJob implements SyncJob {
  constructor(private readonly client: CpExportClient) {}

  async run(): Promise<RunStats> {
    await this.client.visit();
    return { ...new RunStats(), fetched: 1 };
  }
}
