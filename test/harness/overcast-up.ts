// `overcast up` as tests run it: a child process, ready once it prints "Overcast is up", and
// the admin's openrc read back from its data directory.
import { type ChildProcess, spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';

export const OVERCAST = join(import.meta.dirname, '..', '..', 'bin', 'overcast');

export interface RunningUp {
  child: ChildProcess;
  /** Everything it wrote to stderr so far. */
  stderr(): string;
  /** Resolves with the exit code once it has exited. */
  exited: Promise<number | null>;
  /** SIGTERM, then its exit code. */
  stop(): Promise<number | null>;
}

export async function startUp(
  args: string[],
  env: NodeJS.ProcessEnv = {},
  timeoutMs = 150_000,
): Promise<RunningUp> {
  const child = spawn(OVERCAST, ['up', ...args], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, ...env },
  });
  let stderr = '';
  child.stderr?.on('data', (chunk) => {
    stderr += chunk;
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const deadline = Date.now() + timeoutMs;
  while (!stderr.includes('Overcast is up')) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`overcast up did not come up (exit ${child.exitCode}):\n${stderr}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return {
    child,
    stderr: () => stderr,
    exited,
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
}

/**
 * A free port for `overcast up --listen`, below the kernel's ephemeral range (32768 and up
 * here). Ports the kit's components ask the kernel for come from that range, so a component
 * started by `up --with` can never take the API's port between this check and its listen.
 */
export async function apiPort(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    const free = await new Promise<boolean>((resolve) => {
      const server = createServer();
      server.once('error', () => resolve(false));
      server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
    });
    if (free) return port;
  }
  throw new Error('no free port between 20000 and 32000');
}

/** The variables an openrc file exports. */
export async function sourceOpenrc(file: string): Promise<Record<string, string>> {
  const text = await readFile(file, 'utf8');
  return Object.fromEntries(
    [...text.matchAll(/^export (\w+)='([^']*)'$/gm)].map((match) => [match[1]!, match[2]!]),
  );
}

/** A token of the openrc's user, scoped as the openrc says; throws with the answer if refused. */
export async function openrcToken(baseUrl: string, openrc: Record<string, string>): Promise<string> {
  const issued = await fetch(`${baseUrl}/identity/v3/auth/tokens`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      auth: {
        identity: {
          methods: ['password'],
          password: {
            user: {
              name: openrc.OS_USERNAME,
              password: openrc.OS_PASSWORD,
              domain: { name: openrc.OS_USER_DOMAIN_NAME },
            },
          },
        },
        scope: { project: { name: openrc.OS_PROJECT_NAME, domain: { name: openrc.OS_PROJECT_DOMAIN_NAME } } },
      },
    }),
  });
  const token = issued.headers.get('x-subject-token');
  if (issued.status !== 201 || !token) {
    throw new Error(`token refused (${issued.status}): ${await issued.text()}`);
  }
  return token;
}
