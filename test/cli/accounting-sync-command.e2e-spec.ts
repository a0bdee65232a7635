import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { scheduledRunId, Topic } from '@sync-hub/contracts';
import { DevposSimulator, QuickBooksSimulator } from '@sync-hub/simulators';
import { createTestDatabase, insertCompanies, TestDatabase } from '../support/database';
import { TEST_KAFKA_BROKERS } from '../support/env';
import { KafkaProbe } from '../support/kafka';
import { cli } from '../support/cli';
import { simulatedAccountingEnv } from '../support/accounting-env';

const RANGE = { from: '2026-02-02', to: '2026-02-08' };
const DOCUMENT_TYPES = ['Invoice', 'CreditMemo', 'Bill', 'VendorCredit'] as const;
/** This suite's own company for schedule:run-due: its ticks on the shared broker are no other suite's. */
const RUN_DUE_COMPANY = 4511;

/** A stat's value from the command's stats block (`  created          12`). */
function stat(stdout: string, name: string): number {
  const m = new RegExp(`^\\s+${name}\\s+(\\d+)$`, 'm').exec(stdout);
  assert.ok(m, `no ${name} in:\n${stdout}`);
  return Number(m[1]);
}

describe('accounting:sync and schedule:run-due (MariaDB, Kafka, QuickBooks and DevPos simulators over HTTP)', () => {
  let db: TestDatabase;
  let qbo: QuickBooksSimulator;
  let devpos: DevposSimulator;
  let env: Record<string, string>;
  const probe = new KafkaProbe();
  const inQbo = () => DOCUMENT_TYPES.reduce((n, t) => n + qbo.entities(t).length, 0);

  before(async () => {
    db = await createTestDatabase('cli_accounting_sync');
    qbo = new QuickBooksSimulator({ seed: 31 });
    await qbo.start();
    devpos = new DevposSimulator({ seed: 31 });
    const devposUrl = await devpos.start();
    const user = devpos.users[0];
    devpos.generate(user.tenant, { ...RANGE, salesPerDay: 3, purchasesPerDay: 2 });
    const seed = qbo.connect();
    env = {
      KAFKA_BROKERS: TEST_KAFKA_BROKERS,
      DATABASE_URL: db.url,
      SECRETS_KEY: randomBytes(32).toString('base64'),
      HTTP_RETRIES: '0',
      ...simulatedAccountingEnv(qbo, seed, devpos, devposUrl),
    };
    // accounting-sync's projection of company 1, as scheduler.company.changed.v1 would have left it.
    await db.dataSource.query(
      "INSERT INTO accounting_company_projections (id, name, timezone, active, updated_at) VALUES (1, 'Company 1', 'Europe/Tirane', 1, NOW(3))",
    );
    await probe.watch([Topic.RunCompleted, Topic.RunFailed, Topic.AccountingRequested]);
  });

  after(async () => {
    await probe.close();
    await qbo?.stop();
    await devpos?.stop();
    await db?.drop();
  });

  it('--dry-run prints the plan (action, number, entity, party) and writes nothing anywhere', async () => {
    const { code, stdout, stderr } = await cli(
      ['accounting:sync', '--company=1', '--job=full', `--from=${RANGE.from}`, `--to=${RANGE.to}`, '--dry-run'],
      env,
    );
    assert.equal(code, 0, stderr);
    assert.match(stdout, /^Dry run of full for company 1, 2026-02-02 … 2026-02-08$/m);
    assert.match(stdout, /^action\s+number\s+entity\s+party$/m);
    const planned = stdout.split('\n').filter((l) => /^(create|update|skip|unchanged)\s/.test(l));
    const source = devpos.documentsOf(devpos.users[0].tenant);
    assert.equal(planned.length, source.length, 'one plan row per DevPos document');
    assert.ok(
      planned.some((l) => /^create\s+\d+\/2026\s+(Invoice|CreditMemo)\s/.test(l)),
      stdout,
    );
    assert.ok(
      planned.some((l) => /^create\s+\S+\s+(Bill|VendorCredit)\s/.test(l)),
      stdout,
    );
    assert.equal(stat(stdout, 'created'), planned.filter((l) => l.startsWith('create')).length);
    assert.match(stdout, /^Dry run: nothing was written$/m);
    assert.equal(inQbo(), 0, 'no QuickBooks document');
    const [{ n }] = await db.dataSource.query('SELECT COUNT(*) AS n FROM accounting_documents');
    assert.equal(Number(n), 0, 'no document row');
    const [{ p }] = await db.dataSource.query('SELECT COUNT(*) AS p FROM accounting_parties');
    assert.equal(Number(p), 0, 'no party row');
  });

  it('a real run creates the documents in QuickBooks, prints the stats and ends its run with trigger cli', async () => {
    const { code, stdout, stderr } = await cli(
      ['accounting:sync', '--company=1', '--job=full', `--from=${RANGE.from}`, `--to=${RANGE.to}`],
      env,
    );
    assert.equal(code, 0, `${stdout}\n${stderr}`);
    const runId = /\(run ([0-9a-f-]{36})\)/.exec(stdout)?.[1];
    assert.ok(runId, stdout);
    const source = devpos.documentsOf(devpos.users[0].tenant);
    const rejected = source.filter((d) => d.invoiceStatus === 'Refuzuar').length;
    assert.equal(stat(stdout, 'fetched'), source.length);
    assert.equal(stat(stdout, 'created'), source.length - rejected);
    assert.equal(stat(stdout, 'failed'), 0);
    assert.equal(inQbo(), source.length - rejected, 'one QuickBooks document per document');
    const end = await probe.waitForRunEnd(runId);
    assert.equal(end.topic, Topic.RunCompleted, end.value);
    assert.equal(end.json.payload.trigger, 'cli');
    assert.equal(end.json.payload.stats.created, source.length - rejected);

    const writes = qbo.apiCounters();
    const again = await cli(
      ['accounting:sync', '--company=1', '--job=sales', '--from=2026-02-02', '--to=2026-02-08'],
      env,
    );
    assert.equal(again.code, 0, again.stderr);
    assert.equal(stat(again.stdout, 'created'), 0);
    assert.ok(stat(again.stdout, 'unchanged') > 0);
    assert.equal(qbo.apiCounters().batches, writes.batches, 'a second run writes nothing');
  });

  it('usage errors are exit 2 before anything runs: --days with --from, a bad date, an unknown job', async () => {
    const writes = qbo.apiCounters();
    const both = await cli(
      ['accounting:sync', '--company=1', '--job=sales', '--days=3', '--from=2026-02-02', '--to=2026-02-03'],
      env,
    );
    assert.equal(both.code, 2);
    assert.match(both.stderr, /--days and --from\/--to exclude each other/);
    const half = await cli(['accounting:sync', '--company=1', '--job=sales', '--from=2026-02-02'], env);
    assert.equal(half.code, 2);
    assert.match(half.stderr, /--from and --to go together/);
    const bad = await cli(
      ['accounting:sync', '--company=1', '--job=sales', '--from=2026-02-30', '--to=2026-03-01'],
      env,
    );
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /must be a date, YYYY-MM-DD/);
    const reversed = await cli(
      ['accounting:sync', '--company=1', '--job=sales', '--from=2026-03-02', '--to=2026-03-01'],
      env,
    );
    assert.equal(reversed.code, 2, reversed.stdout + reversed.stderr);
    const job = await cli(['accounting:sync', '--company=1', '--job=payments', '--days=3'], env);
    assert.equal(job.code, 2);
    assert.match(job.stderr, /--job must be one of sales, bills, full/);
    assert.match(reversed.stderr, /from \(2026-03-02\) is after to \(2026-03-01\)/);
    assert.deepEqual(qbo.apiCounters(), writes, 'no QuickBooks call');
  });

  it('an unknown company is exit 2, naming the companies accounting-sync knows', async () => {
    const { code, stderr } = await cli(['accounting:sync', '--company=999', '--job=sales', '--days=3'], env);
    assert.equal(code, 2);
    assert.match(stderr, /company 999 not found; accounting-sync knows companies 1/);
  });

  it('the embedded mode without QBO_CLIENT_ID refuses, pointing at the running hub', async () => {
    const dir = `/tmp/sync-hub-cli-${randomBytes(4).toString('hex')}`;
    const { code, stderr } = await cli(['accounting:sync', '--company=1', '--job=sales', '--days=3', '--dry-run'], {
      DATA_DIR: dir, // no KAFKA_BROKERS: the embedded mode
    });
    assert.equal(code, 2, stderr);
    assert.match(stderr, /simulated in the embedded mode.*POST \/api\/schedules\/<id>\/run/s);
  });

  describe('schedule:run-due', () => {
    let dueId: number;
    let missedId: number;

    before(async () => {
      await insertCompanies(db, [RUN_DUE_COMPANY]);
      await db.dataSource.query("UPDATE schedules SET next_run_at = '2099-01-01 00:00:00'");
      // Daily at an hour about twelve hours from now (in Tirane, UTC+1 or +2), so the latest slot of the missed
      // schedule is never inside its one-hour catch-up window, whatever the time of day the suite runs.
      const farHour = (new Date().getUTCHours() + 13) % 24;
      for (const [job, minutesAgo] of [
        ['accounting.connections.check', 1],
        ['sales', 3 * 24 * 60],
      ] as const) {
        await db.dataSource.query(
          `INSERT INTO schedules (company_id, domain, job_type, frequency, minute, hour_of_day, timezone, enabled,
             overlap_policy, catchup_window_s, next_run_at, created_at, updated_at)
           VALUES (?, 'accounting', ?, 'daily', 0, ?, 'Europe/Tirane', 1, 'skip', 3600, ?, NOW(3), NOW(3))`,
          [RUN_DUE_COMPANY, job, farHour, new Date(Date.now() - minutesAgo * 60000)],
        );
      }
      const rows: Array<{ id: number; job_type: string }> = await db.dataSource.query(
        'SELECT id, job_type FROM schedules WHERE company_id = ?',
        [RUN_DUE_COMPANY],
      );
      dueId = rows.find((r) => r.job_type === 'accounting.connections.check')!.id;
      missedId = rows.find((r) => r.job_type === 'sales')!.id;
    });

    it('with a scheduler leading (the leader lease held), it publishes nothing and says why', async () => {
      await db.dataSource.query(
        "INSERT INTO job_leases (name, owner, run_id, expires_at) VALUES ('scheduler.leader', 'another-replica', NULL, ?)",
        [new Date(Date.now() + 5 * 60000)],
      );
      const { code, stdout, stderr } = await cli(['schedule:run-due'], env);
      await db.dataSource.query("DELETE FROM job_leases WHERE name = 'scheduler.leader'");
      assert.equal(code, 0, stderr);
      assert.match(stdout, /A scheduler is running and leads/);
      const [row] = await db.dataSource.query('SELECT last_run_at FROM schedules WHERE id = ?', [dueId]);
      assert.equal(row.last_run_at, null, 'the due schedule was not ticked');
    });

    it('ticks every due schedule once as the loop would, prints the run ids, and a second call finds nothing due', async () => {
      const { code, stdout, stderr } = await cli(['schedule:run-due'], env);
      assert.equal(code, 0, stderr);
      assert.match(stdout, /^1 tick\(s\) published at /m);
      const [row] = await db.dataSource.query('SELECT last_run_at, next_run_at FROM schedules WHERE id = ?', [dueId]);
      const slot = new Date(row.last_run_at);
      const runId = scheduledRunId(String(dueId), slot);
      const line = stdout.split('\n').find((l) => l.startsWith(`${dueId} `));
      assert.ok(line, stdout);
      assert.match(
        line,
        new RegExp(
          `^${dueId}\\s+${RUN_DUE_COMPANY}\\s+accounting/accounting\\.connections\\.check\\s+${slot.toISOString()}\\s+${runId}$`,
        ),
      );
      assert.ok(new Date(row.next_run_at) > new Date(), 'next run advanced');
      const missed = stdout.split('\n').find((l) => l.startsWith(`${missedId} `));
      assert.match(String(missed), /accounting\/sales\s+-\s+skipped: missed beyond its catch-up window/);
      const tick = await probe.waitFor(Topic.AccountingRequested, (m) => m.json?.payload?.runId === runId, 'the tick');
      assert.equal(tick.json.payload.trigger, 'schedule');
      assert.equal(tick.json.payload.companyId, RUN_DUE_COMPANY);

      const again = await cli(['schedule:run-due'], env);
      assert.equal(again.code, 0, again.stderr);
      assert.match(again.stdout, /^Nothing due at /);
      await new Promise((r) => setTimeout(r, 1000));
      assert.equal(
        probe.messages(Topic.AccountingRequested, (m) => m.json?.payload?.runId === runId).length,
        1,
        'one tick',
      );
    });
  });
});
