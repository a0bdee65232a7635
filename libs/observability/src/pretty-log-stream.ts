import { isatty } from 'node:tty';
import { build, MessageFormatFunc, PrettyStream } from 'pino-pretty';

/** Fields the pretty line shows in its own way (or not at all), instead of as an object under the message. */
const SHOWN_INLINE = [
  'pid',
  'hostname',
  'app',
  'context',
  'runId',
  'domain',
  'job',
  'req',
  'res',
  'responseTime',
  'reqId',
];

type Paint = (text: string) => string;

/**
 * One readable line: `[Context] message  GET /api/runs 200 4ms  runId=… domain=… job=…`. A run's fields stay on
 * every line (grep for a runId works as in JSON); other fields and errors follow below as pino-pretty prints them.
 */
export function prettyMessage(log: Record<string, unknown>, messageKey = 'msg', dim: Paint = (t) => t): string {
  const context = typeof log.context === 'string' && log.context ? `[${log.context}] ` : '';
  const message = log[messageKey];
  const parts = [`${context}${typeof message === 'string' ? message : message == null ? '' : JSON.stringify(message)}`];
  const req = log.req as { method?: string; url?: string } | undefined;
  const res = log.res as { statusCode?: number } | undefined;
  if (req?.method && req.url) {
    const time = typeof log.responseTime === 'number' ? ` ${log.responseTime}ms` : '';
    parts.push(`${req.method} ${req.url}${res?.statusCode ? ` ${res.statusCode}` : ''}${time}`);
  }
  const run = (['runId', 'domain', 'job'] as const)
    .filter((k) => log[k] !== undefined && log[k] !== null)
    .map((k) => `${k}=${String(log[k])}`);
  if (run.length > 0) parts.push(dim(run.join(' ')));
  return parts.join('  ');
}

/** Nest's start-up wiring (a line per module and per route): kept in JSON logs, left off the terminal. */
const WIRING_LINE = /"context":"(InstanceLoader|RoutesResolver|RouterExplorer)"/;

/**
 * pino-pretty as a synchronous stream in this thread, not a worker-thread transport: a line is on the terminal when
 * the call returns (a CLI that exits right after, or a test reading the output, sees every line), and the message
 * formatter can be a function. Colour only when the target is a terminal.
 */
export function prettyLogStream(fd: 1 | 2): { write(line: string): void } {
  const colorize = isatty(fd);
  const messageFormat: MessageFormatFunc = (log, messageKey, _level, { colors }) =>
    prettyMessage(log, messageKey, colorize ? colors.gray : undefined);
  const pretty: PrettyStream = build({
    destination: fd,
    sync: true,
    colorize,
    translateTime: 'SYS:HH:MM:ss.l',
    ignore: SHOWN_INLINE.join(','),
    messageFormat,
  });
  return { write: (line) => void (WIRING_LINE.test(line) || pretty.write(line)) };
}
