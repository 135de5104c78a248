// The one way Overcast runs an external program: argv arrays only, never a shell string,
// so user data can never be interpreted by a shell.
import { spawn } from 'node:child_process';

export interface RunOptions {
  /** Text written to the child's standard input. */
  input?: string;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Kill the child after this many milliseconds (default: no limit). */
  timeoutMs?: number;
  /** Resolve instead of throwing when the exit code is not 0. */
  allowFailure?: boolean;
  /** Called with each chunk of output as it arrives: progress for long work. */
  onOutput?: (chunk: string) => void;
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export class ExecError extends Error {
  constructor(
    readonly argv: readonly string[],
    readonly result: RunResult,
  ) {
    const tail = (result.stderr || result.stdout).trim().split('\n').slice(-15).join('\n');
    super(`${argv.join(' ')} exited with ${result.code}${tail ? `:\n${tail}` : ''}`);
    this.name = 'ExecError';
  }
}

export function run(argv: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  const [command, ...args] = argv;
  if (!command) throw new Error('run: empty argv');
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      env: options.env ?? process.env,
      cwd: options.cwd,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let timer: NodeJS.Timeout | undefined;
    if (options.timeoutMs) {
      timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs);
    }
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      options.onOutput?.(chunk);
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
      options.onOutput?.(chunk);
    });
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(new Error(`cannot run ${command}: ${err.message}`));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const result = { code: code ?? (signal ? 128 : 1), stdout, stderr };
      if (result.code !== 0 && !options.allowFailure) reject(new ExecError(argv, result));
      else resolve(result);
    });
    // A child that exits before its input is written (a quick command on a busy machine) makes
    // this write fail with EPIPE; that is no error of ours, the exit code tells what happened.
    child.stdin.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code !== 'EPIPE') reject(new Error(`writing to ${command}: ${err.message}`));
    });
    child.stdin.end(options.input ?? '');
  });
}

/** True when `command` is found on PATH (or is an existing absolute path). */
export async function commandExists(command: string): Promise<boolean> {
  const result = await run(['sh', '-c', 'command -v "$1"', 'sh', command], { allowFailure: true });
  return result.code === 0;
}
