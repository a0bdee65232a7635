import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { createHash } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { QuickBooksApiClient } from '../quickbooks/quickbooks-api.client';
import { QuickBooksFault } from '../quickbooks/quickbooks-fault';
import { AccountingParty, partyKey } from './accounting-party.entity';
import { qboString } from './source-document';

export type PartyKind = 'customer' | 'vendor';

interface QboParty {
  Id: string;
  DisplayName?: string;
  CurrencyRef?: { value?: string };
}

/** QuickBooks names are at most 500 characters; DevPos names are short, but nothing is assumed. */
const MAX_NAME = 500;

/**
 * Finds or creates the QuickBooks customer (of a sale) or vendor (of a purchase) of a document, keyed by (company,
 * NUIS, currency) in `accounting_parties`. On a miss: a query by DisplayName (escaped), else a create with the NUIS in
 * `ResaleNum` (customers) or `TaxIdentifier` (vendors) and the currency. A 6240 "Duplicate Name" means the name is
 * taken by another type (a vendor of the same name, an employee) or by a party in another currency: the party is then
 * created under a name that says which one it is, never put on a default customer.
 */
@Injectable()
export class PartyResolver {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly api: QuickBooksApiClient,
  ) {}

  async resolve(
    companyId: number,
    realmId: string,
    token: string,
    kind: PartyKind,
    party: { nuis: string | null; name: string },
    currency: string,
  ): Promise<AccountingParty> {
    const repo = this.dataSource.getRepository(AccountingParty);
    const { key, flagged } = partyKey(party);
    const known = await repo.findOneBy({ companyId, kind, partyKey: key, currency });
    if (known) return known;

    const entity = kind === 'customer' ? 'Customer' : 'Vendor';
    const base = (party.name || party.nuis || 'Unnamed').trim().slice(0, MAX_NAME);
    const candidates = [
      base,
      `${base} (${[party.nuis ?? 'no NUIS', currency].join(', ')})`.slice(0, MAX_NAME),
      `${base} (${kind}, ${[party.nuis ?? 'no NUIS', currency].join(', ')})`.slice(0, MAX_NAME),
    ];
    let found: QboParty | null = null;
    let name = base;
    for (const candidate of candidates) {
      name = candidate;
      found = await this.byName(realmId, token, entity, candidate, currency, party.nuis);
      if (found) break;
      try {
        found = await this.api.create<QboParty>(
          realmId,
          token,
          entity,
          this.body(kind, candidate, party.nuis, currency),
          requestId(companyId, kind, key, currency, candidate),
        );
        break;
      } catch (err) {
        // The name belongs to someone else (another type, another currency): try the next, more specific name.
        if (err instanceof QuickBooksFault && err.has('6240')) continue;
        throw err;
      }
    }
    if (!found) throw new Error(`no QuickBooks ${entity} name is free for ${base}: tried ${candidates.join(' | ')}`);
    const now = new Date();
    await repo
      .createQueryBuilder()
      .insert()
      .values({
        companyId,
        kind,
        partyKey: key,
        currency,
        qboId: found.Id,
        displayName: found.DisplayName ?? name,
        flagged,
        createdAt: now,
        updatedAt: now,
      })
      .orIgnore()
      .execute();
    return repo.findOneByOrFail({ companyId, kind, partyKey: key, currency });
  }

  /** A party of this type and name that can take this document: same currency (and the same NUIS, when it has one). */
  private async byName(
    realmId: string,
    token: string,
    entity: string,
    name: string,
    currency: string,
    nuis: string | null,
  ): Promise<QboParty | null> {
    const rows = await this.api.query<QboParty & { ResaleNum?: string; TaxIdentifier?: string }>(
      realmId,
      token,
      entity,
      `SELECT * FROM ${entity} WHERE DisplayName = ${qboString(name)}`,
    );
    const match = rows.find((r) => (r.CurrencyRef?.value ?? currency) === currency);
    if (!match) return null;
    const theirs = match.ResaleNum ?? match.TaxIdentifier ?? null;
    return !nuis || !theirs || theirs.toUpperCase() === nuis.toUpperCase() ? match : null;
  }

  private body(kind: PartyKind, name: string, nuis: string | null, currency: string): object {
    return {
      DisplayName: name,
      CompanyName: name,
      CurrencyRef: { value: currency },
      ...(nuis ? (kind === 'customer' ? { ResaleNum: nuis } : { TaxIdentifier: nuis }) : {}),
    };
  }
}

/** A create's requestid per (company, party, currency, name tried): a retried create answers the first one. */
function requestId(companyId: number, kind: PartyKind, key: string, currency: string, name: string): string {
  return createHash('sha256')
    .update(`party:${companyId}:${kind}:${key}:${currency}:${name}`)
    .digest('base64url')
    .slice(0, 36);
}
