/**
 * Whether a failure is the infrastructure's (the database or the bus cannot be reached or cannot answer now) rather
 * than the message's. A consumer retries the first kind until it passes, however long the outage lasts, and only
 * dead-letters the second: a message that fails because MariaDB restarted would succeed a minute later, and
 * dead-letters it would leave behind are work nobody asked to lose.
 */
export function isInfrastructureError(err: unknown): boolean {
  return infrastructureProblem(err) !== null;
}

/**
 * What cannot serve, for a log line ("a connection failed (connect ECONNREFUSED 10.0.0.5:3306)"), or null when it is not
 * the infrastructure's. It looks through the wrappers the errors arrive in: TypeORM's QueryFailedError
 * (`driverError`), kafkajs's retries-exceeded error (`cause`), Node's AggregateError of a connection to several
 * addresses (`errors`).
 */
export function infrastructureProblem(err: unknown): string | null {
  for (const e of causeChain(err)) {
    const code = typeof e.code === 'string' ? e.code : undefined;
    const message = typeof e.message === 'string' ? e.message : '';
    // kafkajs's connection errors carry Node's code too: the bus is named first.
    if (typeof e.name === 'string' && BUS_ERROR_NAMES.has(e.name))
      return `the bus is unreachable (${e.name}: ${message})`;
    if (code && DATABASE_ERROR_CODES.has(code)) return `the database cannot serve (${code}: ${message})`;
    if (DATABASE_MESSAGES.some((m) => m.test(message))) return `the database cannot serve (${message})`;
    // Node's own codes: mysql2 passes its socket's errors on as they are (the address says which service it was).
    if (code && NETWORK_ERROR_CODES.has(code)) return `a connection failed (${message || code})`;
    // A broker's answer that kafkajs marks retriable (no leader yet, not enough replicas, a request timed out).
    if (e.name === 'KafkaJSProtocolError' && e.retriable === true)
      return `the bus cannot serve (${typeof e.type === 'string' ? e.type : 'KafkaJSProtocolError'}: ${message})`;
  }
  return null;
}

/** The network: refused, reset, timed out, no route, no name (a DNS blip in a cluster). */
const NETWORK_ERROR_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

/**
 * mysql2's codes for a database that cannot be reached or cannot serve now. The lock errors are here too:
 * contention passes, and a message never causes it by itself. Not here: access denied, an unknown database or table,
 * bad SQL, a duplicate key, a value too long: those fail the same way every time.
 */
const DATABASE_ERROR_CODES = new Set([
  // mysql2: the connection closed under a query, a query sent on a connection already dead, a query that timed out.
  'PROTOCOL_CONNECTION_LOST',
  'PROTOCOL_SEQUENCE_TIMEOUT',
  'PROTOCOL_ENQUEUE_AFTER_FATAL_ERROR',
  'PROTOCOL_ENQUEUE_AFTER_QUIT',
  // The server: too many connections, shutting down, a connection killed (a failover), a network error on its side.
  'ER_CON_COUNT_ERROR',
  'ER_SERVER_SHUTDOWN',
  'ER_CONNECTION_KILLED',
  'ER_NET_READ_ERROR',
  'ER_NET_READ_INTERRUPTED',
  'ER_NET_ERROR_ON_WRITE',
  'ER_NET_WRITE_INTERRUPTED',
  // Read-only while a replica is promoted (MariaDB's `read_only`): writes pass again after the failover.
  'ER_OPTION_PREVENTS_STATEMENT',
  'ER_LOCK_WAIT_TIMEOUT',
  'ER_LOCK_DEADLOCK',
]);

/** mysql2's errors without a code: its pool closed, or a command on a connection that closed. */
const DATABASE_MESSAGES = [/^Pool is closed/, /Can't add new command when connection is in closed state/];

/** kafkajs's errors for a broker that cannot be reached, or that did not answer in time. */
const BUS_ERROR_NAMES = new Set([
  'KafkaJSConnectionError',
  'KafkaJSConnectionClosedError',
  'KafkaJSRequestTimeoutError',
  'KafkaJSBrokerNotFound',
  'KafkaJSNoBrokerAvailableError',
  'KafkaJSGroupCoordinatorNotFound',
  'KafkaJSMetadataNotLoaded',
  'KafkaJSTopicMetadataNotLoaded',
  'KafkaJSLockTimeout',
]);

interface ErrorLike {
  name?: unknown;
  message?: unknown;
  code?: unknown;
  type?: unknown;
  retriable?: unknown;
  driverError?: unknown;
  cause?: unknown;
  errors?: unknown;
}

/** The error and what it wraps, breadth first, at most a few levels deep (a cycle ends it too). */
function causeChain(err: unknown): ErrorLike[] {
  const seen = new Set<unknown>();
  const chain: ErrorLike[] = [];
  let level: unknown[] = [err];
  for (let depth = 0; depth < 5 && level.length > 0; depth++) {
    const next: unknown[] = [];
    for (const e of level) {
      if (!e || typeof e !== 'object' || seen.has(e)) continue;
      seen.add(e);
      const like = e as ErrorLike;
      chain.push(like);
      next.push(like.driverError, like.cause, ...(Array.isArray(like.errors) ? (like.errors as unknown[]) : []));
    }
    level = next;
  }
  return chain;
}
