// Exit codes scripts can rely on (documented in the README).
export const EXIT_OK = 0;
/** The command ran and failed (a server crashed, a migration failed, ...). */
export const EXIT_FAILURE = 1;
/** The command line itself was wrong: unknown command or flag, missing argument. */
export const EXIT_USAGE = 2;
/** The configuration (file, OVERCAST_* variables, flags) is invalid. */
export const EXIT_CONFIG = 3;
/** Something the command depends on is unreachable: database, bus, Kubernetes, a component. */
export const EXIT_UNAVAILABLE = 4;

/** Thrown by a command when something it depends on cannot be reached; exits EXIT_UNAVAILABLE. */
export class DependencyUnavailable extends Error {
  override name = 'DependencyUnavailable';
}

/** Runs `attempt`, turning its failure into DependencyUnavailable prefixed with `what`. */
export async function orUnavailable<T>(what: string, attempt: () => Promise<T>): Promise<T> {
  try {
    return await attempt();
  } catch (err) {
    throw new DependencyUnavailable(`${what}: ${(err as Error).message}`);
  }
}

/** The command line named something that does not exist; exits EXIT_USAGE. */
export class UsageError extends Error {
  override name = 'UsageError';
}
