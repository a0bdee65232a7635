import assert from 'node:assert/strict';
import * as net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { AppProcess, startAppProcess } from '../support/app-process';
import { createTestDatabase, TestDatabase } from '../support/database';
import { TEST_KAFKA_BROKERS, TEST_MYSQL_URL } from '../support/env';
import { eventually, freePort } from '../support/wait';

interface HealthBody {
  status: 'ok' | 'error';
  info: Record<string, { status: string }>;
  error: Record<string, { status: string; message?: string }>;
}

/**
 * The database seen through a TCP relay this test controls: `cut()` is the database going away for this app (open
 * connections dropped, new ones refused), `restore()` is it coming back on the same address. MariaDB itself stays up
 * for the other suites.
 */
class DatabaseLink {
  private server: net.Server | null = null;
  private readonly sockets = new Set<net.Socket>();
  port = 0;

  constructor(private readonly target: { host: string; port: number }) {}

  async open(): Promise<void> {
    this.port ||= await freePort();
    this.server = net.createServer((client) => {
      const upstream = net.connect(this.target);
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on('close', () => this.sockets.delete(s));
        s.on('error', () => undefined);
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve) => this.server!.listen(this.port, '127.0.0.1', resolve));
  }

  async cut(): Promise<void> {
    const server = this.server;
    this.server = null;
    for (const s of this.sockets) s.destroy();
    await new Promise((resolve) => server?.close(resolve));
  }
}

async function health(app: AppProcess): Promise<{ status: number; body: HealthBody }> {
  const res = await fetch(`${app.url}/health/ready`);
  return { status: res.status, body: (await res.json()) as HealthBody };
}

describe('readiness (terminus): its own database, bus and schema, never an upstream', () => {
  let db: TestDatabase;
  let link: DatabaseLink;
  let app: AppProcess;

  before(async () => {
    db = await createTestDatabase('readiness');
    const mysql = new URL(TEST_MYSQL_URL);
    link = new DatabaseLink({ host: mysql.hostname, port: Number(mysql.port || 3306) });
    await link.open();
    const viaLink = new URL(db.url);
    viaLink.host = `127.0.0.1:${link.port}`;
    app = await startAppProcess(
      'splynx-sync',
      {
        KAFKA_BROKERS: TEST_KAFKA_BROKERS,
        DATABASE_URL: viaLink.toString(),
        // An upstream nobody listens on: readiness must not depend on it.
        SPLYNX_URL: 'http://127.0.0.1:9',
        SPLYNX_API_KEY: 'readiness-key',
        SPLYNX_API_SECRET: 'readiness-secret-value',
      },
      'readiness-splynx-sync',
    );
  });

  after(async () => {
    await app?.stop();
    await link?.cut();
    await db?.drop();
  });

  it('is ready with database, bus and migrations up, though its upstream is unreachable', async () => {
    const { status, body } = await health(app);
    assert.equal(status, 200);
    assert.equal(body.status, 'ok');
    assert.deepEqual(Object.keys(body.info), ['database', 'bus', 'migrations']);
    assert.deepEqual(body.error, {});
  });

  it('answers 503 naming the database within 10 s of losing it, and 200 again once it is back', async () => {
    await link.cut();
    const cutAt = Date.now();
    const down = await eventually(
      async () => {
        const h = await health(app);
        return h.status === 503 ? h : undefined;
      },
      'readiness to fail without the database',
      10000,
      200,
    );
    const unreadyAfterMs = Date.now() - cutAt;
    assert.ok(unreadyAfterMs <= 10000, `unready after ${unreadyAfterMs} ms`);
    assert.equal(down.body.status, 'error');
    assert.equal(down.body.error.database?.status, 'down');
    assert.equal(down.body.info.bus?.status, 'up', 'the bus is still fine');
    assert.equal((await fetch(`${app.url}/health/live`)).status, 200, 'the process itself is alive');

    await link.open();
    await eventually(
      async () => ((await health(app)).status === 200 ? true : undefined),
      'readiness to come back with the database',
      30000,
      250,
    );
  });

  it('answers 503 naming a pending migration until it is run', async () => {
    const behind = await createTestDatabase('readiness_behind');
    const last = behind.dataSource.migrations[behind.dataSource.migrations.length - 1];
    await behind.dataSource.undoLastMigration({ transaction: 'each' });
    let second: AppProcess | null = null;
    try {
      second = await startAppProcess(
        'splynx-sync',
        {
          KAFKA_BROKERS: TEST_KAFKA_BROKERS,
          DATABASE_URL: behind.url,
          KAFKA_GROUP_ID: 'readiness-behind',
        },
        'readiness-behind-splynx-sync',
        [],
        'live',
      );
      const pending = await eventually(
        async () => {
          const h = await health(second!);
          return h.status === 503 && h.body.error.migrations ? h : undefined;
        },
        'readiness to report the pending migration',
        15000,
        250,
      );
      assert.equal(pending.body.error.migrations.status, 'down');
      assert.match(pending.body.error.migrations.message ?? '', new RegExp(`1 pending: ${last.name}`));
      assert.equal(pending.body.info.database?.status, 'up');

      await behind.dataSource.runMigrations({ transaction: 'each' });
      await eventually(
        async () => ((await health(second!)).status === 200 ? true : undefined),
        'readiness once the migration has run',
        15000,
        250,
      );
    } finally {
      await second?.stop();
      await behind.drop();
    }
  });
});
