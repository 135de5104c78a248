// Long-running commands stop gracefully on SIGINT/SIGTERM: close what was started in reverse
// order within a grace period; a second signal, or the grace running out, exits at once.
import type { Logger } from '../log.js';
import { EXIT_FAILURE, EXIT_OK } from './exit-codes.js';

export interface Closable {
  name: string;
  close(): Promise<void>;
}

export function closeOnSignal(parts: Closable[], log: Logger, graceMs: number): Promise<number> {
  return new Promise((resolve) => {
    let stopping = false;
    const stop = async (signal: NodeJS.Signals) => {
      if (stopping) {
        log.warn({ signal }, 'second signal: exiting now');
        resolve(EXIT_FAILURE);
        return;
      }
      stopping = true;
      log.info({ signal }, 'shutting down');
      const timer = setTimeout(() => {
        log.error({ graceMs }, 'shutdown grace period exceeded: exiting');
        resolve(EXIT_FAILURE);
      }, graceMs);
      timer.unref();
      let code = EXIT_OK;
      for (const part of [...parts].reverse()) {
        try {
          await part.close();
        } catch (err) {
          log.error({ err, part: part.name }, 'error while closing');
          code = EXIT_FAILURE;
        }
      }
      clearTimeout(timer);
      resolve(code);
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}
