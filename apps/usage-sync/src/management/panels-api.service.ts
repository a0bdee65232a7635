import { ConflictException, Injectable, Logger, NotFoundException } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import {
  CreatePanelBody,
  ListPanelsQuery,
  PANEL_CREDENTIAL_FIELDS,
  PanelPage,
  PanelView,
  UpdatePanelBody,
} from '@sync-hub/contracts';
import { isDuplicateKeyError, lockedQuery } from '@sync-hub/persistence';
import type { DataSource, EntityManager, Repository } from 'typeorm';
import { Panel, PanelCredentials, ResellerConfig } from '../model/usage.entities';
import { PanelSecrets } from '../panels/panel-secrets';
import { PanelCircuits } from '../sync/panel-circuits';
import { checkCredentials, checkSettings, FieldErrors, GivenCredentials } from './panel-input';
import {
  badFields,
  credentialsSet,
  decodeIdCursor,
  encodeIdCursor,
  NO_CONFIGS,
  PanelConfigCounts,
  panelView,
} from './usage-views';

const DEFAULT_LIMIT = 50;

/** The credential fields a request set (a value) or removed (null); those left out are not in it. */
function givenCredentials(body: CreatePanelBody | UpdatePanelBody): GivenCredentials {
  const given: GivenCredentials = {};
  for (const field of PANEL_CREDENTIAL_FIELDS) if (body[field] !== undefined) given[field] = body[field];
  return given;
}

function merged(...errors: FieldErrors[]): FieldErrors {
  const out: FieldErrors = {};
  for (const e of errors) for (const [field, reasons] of Object.entries(e)) (out[field] ??= []).push(...reasons);
  return out;
}

function duplicateName(name: string): ConflictException {
  return new ConflictException(`a panel named "${name}" exists already: panel names are unique`);
}

/**
 * The VPN panels of the usage sync (issue 13): the list with each panel's health (its last success and error, and
 * what its configs' last syncs say), creating, editing and deleting one. Credentials are write-only: checked for the
 * panel's type, sealed with SECRETS_KEY bound to the panel's id, and only the names of the fields set are answered.
 * Each write happens in one transaction: a refused request writes nothing.
 */
@Injectable()
export class PanelsApiService {
  private readonly logger = new Logger(PanelsApiService.name);

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly secrets: PanelSecrets,
    private readonly circuits: PanelCircuits,
  ) {}

  /** By id; `next_cursor` continues after the page's last panel. */
  async list(query: ListPanelsQuery): Promise<PanelPage> {
    const after = query.cursor ? decodeIdCursor(query.cursor) : undefined;
    if (after === null) throw badFields({ cursor: ['not a cursor this API gave out'] });
    const limit = query.limit ?? DEFAULT_LIMIT;
    const qb = this.dataSource.getRepository(Panel).createQueryBuilder('p');
    if (query.type) qb.andWhere('p.type = :type', { type: query.type });
    if (query.active) qb.andWhere('p.active = :active', { active: query.active === 'true' });
    if (after) qb.andWhere('p.id > :after', { after });
    const rows = await qb
      .orderBy('p.id', 'ASC')
      .limit(limit + 1)
      .getMany();
    const page = rows.slice(0, limit);
    const counts = await this.configCounts(page.map((p) => p.id));
    return {
      data: page.map((p) => this.view(p, this.openOrNull(p), counts.get(p.id) ?? NO_CONFIGS)),
      next_cursor: rows.length > limit ? encodeIdCursor(page[page.length - 1].id) : null,
    };
  }

  async get(id: number): Promise<PanelView> {
    const row = await this.dataSource.getRepository(Panel).findOneBy({ id });
    if (!row) throw new NotFoundException(`panel ${id} not found`);
    return this.viewOf(row);
  }

  async create(body: CreatePanelBody): Promise<PanelView> {
    const settings = checkSettings(body.type, body.settings ?? {});
    const checked = checkCredentials(body.type, {}, givenCredentials(body), settings.stored);
    const errors = merged(settings.errors, checked.errors);
    if (Object.keys(errors).length) throw badFields(errors);
    const row = await this.dataSource.transaction(async (m) => {
      const repo = m.getRepository(Panel);
      const now = new Date();
      const panel = repo.create({
        name: body.name,
        type: body.type,
        url: body.url,
        credentialsSealed: null,
        settings: settings.stored,
        maxConcurrency: body.max_concurrency ?? 8,
        requestsPerSecond: body.requests_per_second ?? null,
        active: body.active ?? true,
        lastSuccessAt: null,
        lastError: null,
        lastErrorAt: null,
        createdAt: now,
        updatedAt: now,
      });
      await this.saveNamed(repo, panel);
      // Sealed once the id is known: the seal is bound to it.
      panel.credentialsSealed = this.secrets.seal(panel, checked.credentials);
      await repo.update({ id: panel.id }, { credentialsSealed: panel.credentialsSealed });
      return panel;
    });
    this.logger.log(
      `panel ${row.id} (${row.name}, ${row.type}) created; credentials set: ${credentialsSet(checked.credentials)!.join(', ')}`,
    );
    return this.view(row, checked.credentials, NO_CONFIGS);
  }

  /**
   * Any of the fields. A credential given replaces the stored one, null removes it; those the (new) type does not
   * read are dropped. A type change without settings clears them (they were the old type's).
   */
  async update(id: number, body: UpdatePanelBody): Promise<PanelView> {
    if (!Object.values(body).some((v) => v !== undefined)) throw badFields({ body: ['no field to change'] });
    const { row, credentials } = await this.dataSource.transaction(async (m) => {
      const panel = await this.locked(m, id);
      const type = body.type ?? panel.type;
      const settingsGiven = body.settings ?? (type !== panel.type ? {} : undefined);
      const settings = settingsGiven
        ? checkSettings(type, settingsGiven)
        : { stored: panel.settings ?? {}, errors: {} };
      // Credentials that no longer open (sealed for another panel) are replaced by the request's, or refused.
      const previous = this.openOrNull(panel) ?? {};
      const checked = checkCredentials(type, previous, givenCredentials(body), settings.stored);
      const errors = merged(settings.errors, checked.errors);
      if (Object.keys(errors).length) throw badFields(errors);
      if (body.name !== undefined) panel.name = body.name;
      if (body.url !== undefined) panel.url = body.url;
      if (body.max_concurrency !== undefined) panel.maxConcurrency = body.max_concurrency;
      if (body.requests_per_second !== undefined) panel.requestsPerSecond = body.requests_per_second;
      if (body.active !== undefined) panel.active = body.active;
      panel.type = type;
      panel.settings = settings.stored;
      panel.credentialsSealed = this.secrets.seal(panel, checked.credentials);
      panel.updatedAt = new Date();
      await this.saveNamed(m.getRepository(Panel), panel);
      return { row: panel, credentials: checked.credentials };
    });
    // Field names only: a credential's value never reaches the log.
    const fields = Object.keys(body).filter((k) => body[k as keyof UpdatePanelBody] !== undefined);
    this.logger.log(`panel ${id} (${row.name}, ${row.type}) updated: ${fields.join(', ')}`);
    return this.view(row, credentials, (await this.configCounts([id])).get(id) ?? NO_CONFIGS);
  }

  /**
   * Deletes a panel no config uses. One that still has configs is a 409 (they would lose their panel, and their usage
   * with it): move them to another panel first, or deactivate the panel instead.
   */
  async remove(id: number): Promise<void> {
    const name = await this.dataSource.transaction(async (m) => {
      const panel = await this.locked(m, id);
      const configs = await m.getRepository(ResellerConfig).countBy({ panelId: id });
      if (configs)
        throw new ConflictException(
          `panel ${id} (${panel.name}) still has ${configs} reseller config${configs === 1 ? '' : 's'}: move them to another panel (PATCH /api/usage/configs/:id with panel_id) or deactivate the panel (PATCH with active: false) instead`,
        );
      await m.getRepository(Panel).delete({ id });
      return panel.name;
    });
    this.logger.log(`panel ${id} (${name}) deleted`);
  }

  private async viewOf(row: Panel): Promise<PanelView> {
    return this.view(row, this.openOrNull(row), (await this.configCounts([row.id])).get(row.id) ?? NO_CONFIGS);
  }

  /** The panel's answer, with its circuit as this process's job last left it. */
  private view(row: Panel, credentials: PanelCredentials | null, counts: PanelConfigCounts): PanelView {
    return panelView(row, credentials, counts, this.circuits.state(row.id));
  }

  /** The panel's row, locked until the transaction ends (a config added meanwhile waits); 404 when there is none. */
  private async locked(m: EntityManager, id: number): Promise<Panel> {
    const panel = await lockedQuery(m, Panel, 'p').where('p.id = :id', { id }).getOne();
    if (!panel) throw new NotFoundException(`panel ${id} not found`);
    return panel;
  }

  private async saveNamed(repo: Repository<Panel>, panel: Panel): Promise<void> {
    try {
      await repo.save(panel);
    } catch (err) {
      if (isDuplicateKeyError(err)) throw duplicateName(panel.name);
      throw err;
    }
  }

  /** The stored credentials, or null when they do not open (a sealed value copied from another panel's row). */
  private openOrNull(panel: Panel): PanelCredentials | null {
    try {
      return this.secrets.open(panel);
    } catch (err) {
      this.logger.warn(`panel ${panel.id} (${panel.name}): the stored credentials do not open: ${(err as Error).name}`);
      return null;
    }
  }

  /** Per panel: its configs, the active ones, and the active ones whose last sync was a hard failure. */
  private async configCounts(panelIds: number[]): Promise<Map<number, PanelConfigCounts>> {
    if (!panelIds.length) return new Map();
    const rows: Array<{ panel_id: number; total: unknown; active: unknown; failing: unknown }> = await this.dataSource
      .getRepository(ResellerConfig)
      .createQueryBuilder('c')
      .select('c.panelId', 'panel_id')
      .addSelect('COUNT(*)', 'total')
      .addSelect('SUM(CASE WHEN c.status = :active THEN 1 ELSE 0 END)', 'active')
      .addSelect('SUM(CASE WHEN c.status = :active AND c.lastUsageError IS NOT NULL THEN 1 ELSE 0 END)', 'failing')
      .where('c.panelId IN (:...panelIds)', { panelIds, active: 'active' })
      .groupBy('c.panelId')
      .getRawMany();
    return new Map(
      rows.map((r) => [
        Number(r.panel_id),
        { total: Number(r.total), active: Number(r.active ?? 0), failing: Number(r.failing ?? 0) },
      ]),
    );
  }
}
