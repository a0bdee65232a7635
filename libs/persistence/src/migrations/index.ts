import { CreateRunClaims1763700000000 } from './1763700000000-create-run-claims';
import { CreateOutboxMessages1763700000001 } from './1763700000001-create-outbox-messages';
import { CreateSplynxCustomers1763700000002 } from './1763700000002-create-splynx-customers';
import { CreateSyncRuns1763700000003 } from './1763700000003-create-sync-runs';
import { CreateJobLeases1763700000004 } from './1763700000004-create-job-leases';
import { CreateSchedules1763700000005 } from './1763700000005-create-schedules';
import { CreateSettings1763700000006 } from './1763700000006-create-settings';
import { SeedCadences1763700000007 } from './1763700000007-seed-cadences';
import { CreateNotificationStates1763700000008 } from './1763700000008-create-notification-states';
import { CreateNotifications1763700000009 } from './1763700000009-create-notifications';
import { IndexSyncRunsByJob1763700000010 } from './1763700000010-index-sync-runs-by-job';
import { CreateScheduleProjections1763700000011 } from './1763700000011-create-schedule-projections';
import { CreateSettingProjections1763700000012 } from './1763700000012-create-setting-projections';
import { CreateCompanies1763700000013 } from './1763700000013-create-companies';
import { CreateConnections1763700000014 } from './1763700000014-create-connections';
import { AddWarningsToSyncRuns1763700000015 } from './1763700000015-add-warnings-to-sync-runs';
import { CreateSecretKeyChecks1763700000016 } from './1763700000016-create-secret-key-checks';
import { CreateAccountingCompanyProjections1763700000017 } from './1763700000017-create-accounting-company-projections';
import { CreateQboOauthStates1763700000018 } from './1763700000018-create-qbo-oauth-states';
import { SeedConnectionsCheck1763700000019 } from './1763700000019-seed-connections-check';
import { CreateAccountingParties1763700000020 } from './1763700000020-create-accounting-parties';
import { CreateAccountingDocuments1763700000021 } from './1763700000021-create-accounting-documents';
import { CreateAccountingSettings1763700000022 } from './1763700000022-create-accounting-settings';
import { AddAttachmentsToAccountingDocuments1763700000023 } from './1763700000023-add-attachments-to-accounting-documents';
import { CreateRobawsCustomers1763700000024 } from './1763700000024-create-robaws-customers';
import { CreateCpTables1763700000025 } from './1763700000025-create-cp-tables';
import { SeedCpReconcile1763700000026 } from './1763700000026-seed-cp-reconcile';
import { CreateUsageTables1763700000027 } from './1763700000027-create-usage-tables';
import { AddTakeoversToRuns1763700000028 } from './1763700000028-add-takeovers-to-runs';
import { SplynxIncremental1763700000029 } from './1763700000029-splynx-incremental';
import { DropOutboxNextAttemptIndex1763700000030 } from './1763700000030-drop-outbox-next-attempt-index';
import { OutboxMessageCount1763700000031 } from './1763700000031-outbox-message-count';

/** Listed explicitly, in order: globs break under bundlers and hide what runs. One schema change each. */
export const MIGRATIONS = [
  CreateRunClaims1763700000000,
  CreateOutboxMessages1763700000001,
  CreateSplynxCustomers1763700000002,
  CreateSyncRuns1763700000003,
  CreateJobLeases1763700000004,
  CreateSchedules1763700000005,
  CreateSettings1763700000006,
  SeedCadences1763700000007,
  CreateNotificationStates1763700000008,
  CreateNotifications1763700000009,
  IndexSyncRunsByJob1763700000010,
  CreateScheduleProjections1763700000011,
  CreateSettingProjections1763700000012,
  CreateCompanies1763700000013,
  CreateConnections1763700000014,
  AddWarningsToSyncRuns1763700000015,
  CreateSecretKeyChecks1763700000016,
  CreateAccountingCompanyProjections1763700000017,
  CreateQboOauthStates1763700000018,
  SeedConnectionsCheck1763700000019,
  CreateAccountingParties1763700000020,
  CreateAccountingDocuments1763700000021,
  CreateAccountingSettings1763700000022,
  AddAttachmentsToAccountingDocuments1763700000023,
  CreateRobawsCustomers1763700000024,
  CreateCpTables1763700000025,
  SeedCpReconcile1763700000026,
  CreateUsageTables1763700000027,
  AddTakeoversToRuns1763700000028,
  SplynxIncremental1763700000029,
  DropOutboxNextAttemptIndex1763700000030,
  OutboxMessageCount1763700000031,
];
