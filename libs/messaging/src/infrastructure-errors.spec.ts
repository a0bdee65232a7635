import assert from 'node:assert/strict';
import { createServer, Server } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { InvalidMessageError } from '@sync-hub/contracts';
import {
  Kafka,
  KafkaJSConnectionError,
  KafkaJSNonRetriableError,
  KafkaJSNumberOfRetriesExceeded,
  KafkaJSProtocolError,
  logLevel,
} from 'kafkajs';
import { createConnection, createPool } from 'mysql2/promise';
import { QueryFailedError } from 'typeorm';
import { infrastructureProblem, isInfrastructureError } from './infrastructure-errors';

/** A port nothing listens on: a connection there is refused. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  await new Promise((r) => server.close(r));
  return port;
}

/** What mysql2 throws, caught. */
async function caught(work: () => Promise<unknown>): Promise<Error> {
  try {
    await work();
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected a failure');
}

/** An error as mysql2 builds it from a server's error packet (code, errno, sqlState, sqlMessage, fatal). */
function serverError(code: string, errno: number, sqlMessage: string, fatal = false): Error {
  return Object.assign(new Error(sqlMessage), { code, errno, sqlState: 'HY000', sqlMessage, fatal });
}

/** TypeORM's wrapper of a failed query, around the driver's error (`driverError`). */
function queryFailed(driverError: Error): QueryFailedError {
  return new QueryFailedError('SELECT 1', [], driverError);
}

describe('isInfrastructureError', () => {
  let refusedPort: number;
  /** A server that accepts a connection and closes it at once: the database going away under a client. */
  let closing: Server;
  let closingPort: number;

  before(async () => {
    refusedPort = await closedPort();
    closing = createServer((socket) => socket.destroy());
    await new Promise<void>((r) => closing.listen(0, '127.0.0.1', r));
    closingPort = (closing.address() as { port: number }).port;
  });
  after(() => new Promise((r) => closing.close(r)));

  describe('the database cannot be reached or cannot serve: retried through the outage', () => {
    it("mysql2's connection refused (ECONNREFUSED), as it is and wrapped in TypeORM's QueryFailedError", async () => {
      const err = await caught(() => createConnection({ host: '127.0.0.1', port: refusedPort, connectTimeout: 2000 }));
      assert.equal((err as { code?: string }).code, 'ECONNREFUSED');
      assert.equal(isInfrastructureError(err), true);
      assert.equal(isInfrastructureError(queryFailed(err)), true);
      assert.match(infrastructureProblem(err) ?? '', /a connection failed \(connect ECONNREFUSED 127\.0\.0\.1:\d+\)/);
    });

    it('the server closing the connection (PROTOCOL_CONNECTION_LOST)', async () => {
      const err = await caught(() => createConnection({ host: '127.0.0.1', port: closingPort, connectTimeout: 2000 }));
      assert.equal((err as { code?: string }).code, 'PROTOCOL_CONNECTION_LOST');
      assert.equal(isInfrastructureError(err), true);
      assert.equal(isInfrastructureError(queryFailed(err)), true);
      assert.match(infrastructureProblem(err) ?? '', /^the database cannot serve \(PROTOCOL_CONNECTION_LOST/);
    });

    it("a pool's query after the pool closed ('Pool is closed.', no code)", async () => {
      const pool = createPool({ host: '127.0.0.1', port: refusedPort });
      await pool.end();
      const err = await caught(() => pool.query('SELECT 1'));
      assert.match(err.message, /Pool is closed/);
      assert.equal(isInfrastructureError(err), true);
    });

    it('a connection timing out (ETIMEDOUT), a reset (ECONNRESET), a name that does not resolve now (EAI_AGAIN)', () => {
      for (const code of ['ETIMEDOUT', 'ECONNRESET', 'EAI_AGAIN']) {
        const err = Object.assign(new Error(`connect ${code}`), {
          code,
          errorno: code,
          syscall: 'connect',
          fatal: true,
        });
        assert.equal(isInfrastructureError(err), true, code);
        assert.equal(isInfrastructureError(queryFailed(err)), true, `${code} in QueryFailedError`);
      }
    });

    it('the server: too many connections, shutting down, a killed connection, read-only during a failover, lock waits', () => {
      const errors = [
        serverError('ER_CON_COUNT_ERROR', 1040, 'Too many connections', true),
        serverError('ER_SERVER_SHUTDOWN', 1053, 'Server shutdown in progress', true),
        serverError('ER_CONNECTION_KILLED', 1927, 'Connection was killed', true),
        serverError(
          'ER_OPTION_PREVENTS_STATEMENT',
          1290,
          'The MariaDB server is running with the --read-only option so it cannot execute this statement',
        ),
        serverError('ER_LOCK_WAIT_TIMEOUT', 1205, 'Lock wait timeout exceeded; try restarting transaction'),
        serverError('ER_LOCK_DEADLOCK', 1213, 'Deadlock found when trying to get lock; try restarting transaction'),
      ];
      for (const err of errors) {
        assert.equal(isInfrastructureError(queryFailed(err)), true, err.message);
        assert.match(infrastructureProblem(queryFailed(err)) ?? '', /^the database cannot serve \(ER_/);
      }
    });

    it('a command on a connection mysql2 already closed (its message, no code)', () => {
      const err = new Error("Can't add new command when connection is in closed state");
      assert.equal(isInfrastructureError(err), true);
    });
  });

  describe('the bus cannot be reached: retried through the outage', () => {
    it("kafkajs's own failure to reach a broker that is not there", async () => {
      const kafka = new Kafka({
        clientId: 'infrastructure-errors-spec',
        brokers: [`127.0.0.1:${refusedPort}`],
        connectionTimeout: 1000,
        retry: { retries: 0 },
        logLevel: logLevel.NOTHING,
      });
      const producer = kafka.producer();
      const err = await caught(() => producer.connect());
      assert.equal(isInfrastructureError(err), true, `${err.name}: ${err.message}`);
      assert.match(infrastructureProblem(err) ?? '', /the bus is unreachable \(KafkaJS\w+/);
    });

    it('a connection error, also inside "retries exceeded"; a retriable answer of the broker (no leader yet)', () => {
      const connection = new KafkaJSConnectionError('Connection error: connect ECONNREFUSED 127.0.0.1:9092', {
        broker: '127.0.0.1:9092',
        code: 'ECONNREFUSED',
      });
      assert.equal(isInfrastructureError(connection), true);
      const exceeded = new KafkaJSNumberOfRetriesExceeded(connection, { retryCount: 5, retryTime: 3000 });
      assert.equal(isInfrastructureError(exceeded), true);
      assert.match(infrastructureProblem(exceeded) ?? '', /^the bus is unreachable \(KafkaJSConnectionError/);
      const noLeader = new KafkaJSProtocolError({
        message: 'There is no leader for this topic-partition as we are in the middle of a leadership election',
        type: 'LEADER_NOT_AVAILABLE',
        code: 5,
        retriable: true,
      } as unknown as Error);
      assert.equal(isInfrastructureError(noLeader), true);
      assert.match(infrastructureProblem(noLeader) ?? '', /^the bus cannot serve \(LEADER_NOT_AVAILABLE/);
    });
  });

  describe('failures that would happen again: counted, then dead-lettered', () => {
    it('a duplicate key, an unknown table, bad SQL, access denied (a configuration to fix, not an outage)', () => {
      const errors = [
        serverError('ER_DUP_ENTRY', 1062, "Duplicate entry '1' for key 'PRIMARY'"),
        serverError('ER_NO_SUCH_TABLE', 1146, "Table 'synchub.nope' doesn't exist"),
        serverError('ER_PARSE_ERROR', 1064, 'You have an error in your SQL syntax'),
        serverError('ER_ACCESS_DENIED_ERROR', 1045, "Access denied for user 'sync'@'10.0.0.1'", true),
        serverError('ER_DATA_TOO_LONG', 1406, "Data too long for column 'name' at row 1"),
      ];
      for (const err of errors) {
        assert.equal(isInfrastructureError(err), false, err.message);
        assert.equal(isInfrastructureError(queryFailed(err)), false, `${err.message} in QueryFailedError`);
      }
    });

    it("a broker's final answer (a message too large), kafkajs's non-retriable error around something else", () => {
      const tooLarge = new KafkaJSProtocolError({
        message: 'The request included a message larger than the max message size the server will accept',
        type: 'MESSAGE_TOO_LARGE',
        code: 10,
        retriable: false,
      } as unknown as Error);
      assert.equal(isInfrastructureError(tooLarge), false);
      assert.equal(isInfrastructureError(new KafkaJSNonRetriableError('Invalid partition')), false);
    });

    it("a handler's own error, an invalid message, and things that are not errors", () => {
      for (const [i, err] of [
        new Error('no such company'),
        new TypeError("Cannot read properties of undefined (reading 'id')"),
        new InvalidMessageError(['payload.companyId: companyId must not be less than 1']),
        'ECONNREFUSED',
        null,
        undefined,
        { code: 42 },
      ].entries()) {
        assert.equal(isInfrastructureError(err), false, `case ${i}`);
      }
    });

    it('a cycle of causes ends the search', () => {
      const a = new Error('a', { cause: null }) as Error & { cause: unknown };
      const b = new Error('b', { cause: a });
      a.cause = b;
      assert.equal(isInfrastructureError(a), false);
    });
  });
});
