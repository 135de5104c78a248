// Structured logging for all three programs. Secrets never reach a log line: the redact
// paths cover request headers and bodies that carry passwords, tokens and keys.
import {
  type DestinationStream,
  destination as fileDestination,
  type Logger,
  type LoggerOptions,
  pino,
} from 'pino';

export type { Logger };

export const REDACTED_PATHS = [
  'req.headers["x-auth-token"]',
  'req.headers["x-subject-token"]',
  'req.headers.authorization',
  'req.headers.cookie',
  'res.headers["x-subject-token"]',
  '*.password',
  '*.secret',
  '*.token',
  '*.*.password',
  '*.*.secret',
  'password',
  'secret',
];

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

export function createLogger(
  name: string,
  level: LogLevel = 'info',
  destination?: DestinationStream,
): Logger {
  const options: LoggerOptions = {
    name,
    level,
    redact: { paths: REDACTED_PATHS, censor: '***' },
    base: { pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  // Standard output is written asynchronously: lines logged while a write is under way go out
  // together in the next one, instead of one blocking write per line on the request path.
  // pino flushes what is pending when the process exits.
  return pino(options, destination ?? fileDestination({ dest: 1, sync: false }));
}
