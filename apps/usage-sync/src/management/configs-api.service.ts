import { ConflictException, Injectable, Logger, NotFoundException } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { ConfigPage, ConfigView, CreateConfigBody, ListConfigsQuery, UpdateConfigBody } from '@sync-hub/contracts';
import { lockedQuery } from '@sync-hub/persistence';
import { Brackets } from 'typeorm';
import type { DataSource, EntityManager } from 'typeorm';
import { Panel, Reseller, ResellerConfig } from '../model/usage.entities';
import { badFields, configView, decodeIdCursor, encodeIdCursor } from './usage-views';

const DEFAULT_LIMIT = 50;

/**
 * The reseller configs (issue 13): listed by reseller, panel, status or a failing last sync; one config; creating and
 * editing one. The usage columns are the sync's: answered, never written here. A config names a reseller and a panel
 * that exist (else a 400 naming the field), and one panel user has one config (else a 409).
 */
@Injectable()
export class ConfigsApiService {
  private readonly logger = new Logger(ConfigsApiService.name);

  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  private get configs() {
    return this.dataSource.getRepository(ResellerConfig);
  }

  /** By id; `next_cursor` continues after the page's last config. */
  async list(query: ListConfigsQuery): Promise<ConfigPage> {
    const after = query.cursor ? decodeIdCursor(query.cursor) : undefined;
    if (after === null) throw badFields({ cursor: ['not a cursor this API gave out'] });
    const limit = query.limit ?? DEFAULT_LIMIT;
    const qb = this.configs.createQueryBuilder('c');
    if (query.reseller_id) qb.andWhere('c.resellerId = :resellerId', { resellerId: query.reseller_id });
    if (query.panel_id) qb.andWhere('c.panelId = :panelId', { panelId: query.panel_id });
    if (query.status) qb.andWhere('c.status = :status', { status: query.status });
    if (query.failing === 'true') qb.andWhere('c.lastUsageError IS NOT NULL');
    if (query.failing === 'false') qb.andWhere('c.lastUsageError IS NULL');
    if (query.synced_before) {
      const before = new Date(query.synced_before);
      qb.andWhere(
        new Brackets((w) =>
          w
            .where('c.usageSyncedAt < :before', { before })
            .orWhere('c.usageSyncedAt IS NULL AND c.createdAt < :before', { before }),
        ),
      );
    }
    if (after) qb.andWhere('c.id > :after', { after });
    const rows = await qb
      .orderBy('c.id', 'ASC')
      .limit(limit + 1)
      .getMany();
    const page = rows.slice(0, limit);
    return {
      data: page.map(configView),
      next_cursor: rows.length > limit ? encodeIdCursor(page[page.length - 1].id) : null,
    };
  }

  async get(id: number): Promise<ConfigView> {
    const row = await this.configs.findOneBy({ id });
    if (!row) throw new NotFoundException(`config ${id} not found`);
    return configView(row);
  }

  async create(body: CreateConfigBody): Promise<ConfigView> {
    const row = await this.dataSource.transaction(async (m) => {
      await this.checkTarget(m, body.reseller_id, body.panel_id, body.external_username, null);
      const repo = m.getRepository(ResellerConfig);
      const now = new Date();
      return repo.save(
        repo.create({
          resellerId: body.reseller_id,
          panelId: body.panel_id,
          panelUserId: body.panel_user_id ?? null,
          externalUsername: body.external_username,
          status: body.status ?? 'active',
          usageBytes: 0,
          trafficLimitBytes: body.traffic_limit_bytes ?? null,
          usageSyncedAt: null,
          lastUsageError: null,
          lastUsageErrorAt: null,
          limitAlertPercent: 0,
          createdAt: now,
          updatedAt: now,
        }),
      );
    });
    this.logger.log(
      `config ${row.id} created: reseller ${row.resellerId}, panel ${row.panelId}, user ${row.externalUsername}`,
    );
    return configView(row);
  }

  /** Any of the fields; the usage and the last sync's outcome stay as the sync left them. */
  async update(id: number, body: UpdateConfigBody): Promise<ConfigView> {
    if (!Object.values(body).some((v) => v !== undefined)) throw badFields({ body: ['no field to change'] });
    const row = await this.dataSource.transaction(async (m) => {
      const config = await lockedQuery(m, ResellerConfig, 'c').where('c.id = :id', { id }).getOne();
      if (!config) throw new NotFoundException(`config ${id} not found`);
      const resellerId = body.reseller_id ?? config.resellerId;
      const panelId = body.panel_id ?? config.panelId;
      const username = body.external_username ?? config.externalUsername;
      await this.checkTarget(
        m,
        resellerId !== config.resellerId ? resellerId : null,
        panelId !== config.panelId || username !== config.externalUsername ? panelId : null,
        username,
        id,
      );
      config.resellerId = resellerId;
      config.panelId = panelId;
      config.externalUsername = username;
      if (body.panel_user_id !== undefined) config.panelUserId = body.panel_user_id;
      if (body.status !== undefined) config.status = body.status;
      if (body.traffic_limit_bytes !== undefined) config.trafficLimitBytes = body.traffic_limit_bytes;
      config.updatedAt = new Date();
      return m.getRepository(ResellerConfig).save(config);
    });
    const fields = Object.keys(body).filter((k) => body[k as keyof UpdateConfigBody] !== undefined);
    this.logger.log(`config ${id} updated: ${fields.join(', ')}`);
    return configView(row);
  }

  /**
   * The reseller and the panel exist (each missing one named in one 400), and the panel has no other config for the
   * username (409). The panel's row stays locked until the transaction ends, so a delete of the panel waits for it.
   * A null id is not checked (unchanged).
   */
  private async checkTarget(
    m: EntityManager,
    resellerId: number | null,
    panelId: number | null,
    username: string,
    configId: number | null,
  ): Promise<void> {
    const fields: Record<string, string[]> = {};
    if (resellerId !== null && !(await m.getRepository(Reseller).existsBy({ id: resellerId })))
      fields.reseller_id = [`no reseller ${resellerId}`];
    const panel =
      panelId === null ? null : await lockedQuery(m, Panel, 'p').where('p.id = :panelId', { panelId }).getOne();
    if (panelId !== null && !panel) fields.panel_id = [`no panel ${panelId}`];
    if (Object.keys(fields).length) throw badFields(fields);
    if (!panel) return;
    const qb = m
      .getRepository(ResellerConfig)
      .createQueryBuilder('c')
      .where('c.panelId = :panelId AND c.externalUsername = :username', { panelId, username });
    if (configId !== null) qb.andWhere('c.id <> :configId', { configId });
    const taken = await qb.getOne();
    if (taken)
      throw new ConflictException(
        `panel ${panel.id} (${panel.name}) has a config for ${username} already (config ${taken.id}): one config per panel user`,
      );
  }
}
