import { Injectable } from '@nestjs/common';
import { RunStats } from '@sync-hub/contracts';
import { RobawsCustomer } from './robaws-customer.entity';

export interface CustomerPushStats extends RunStats {
  pushed: number;
  conflicts: number;
}

export interface CustomerPushOptions {
  /** Say what would be sent; send and write nothing. */
  dryRun?: boolean;
  /** At most this many dirty customers. */
  limit?: number;
  /** Only this customer's local edit. */
  clientId?: number;
  signal?: AbortSignal;
}

/** One merge-patch a push sends (or, in a dry run, would send). */
export interface PlannedPatch {
  robawsId: number;
  patch: Record<string, unknown>;
}

export interface CustomerPushResult {
  stats: CustomerPushStats;
  planned: PlannedPatch[];
}

/**
 * Sends local edits to Robaws (robaws.customers.push). Being built (issue 11): the signatures are the contract the API
 * and the CLI are written against.
 */
@Injectable()
export class CustomerPushService {
  push(_options: CustomerPushOptions): Promise<CustomerPushResult> {
    return Promise.reject(new Error('robaws.customers.push is being built'));
  }

  /** Ends a conflict: `local` keeps the edit (based on Robaws's current version), `remote` drops it. */
  resolve(_robawsId: number, _keep: 'local' | 'remote'): Promise<RobawsCustomer> {
    return Promise.reject(new Error('resolving a conflict is being built'));
  }
}
