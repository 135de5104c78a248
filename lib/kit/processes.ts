// Servers that fork workers (uWSGI, oslo.service): finding a master's descendants in /proc,
// their memory, and stopping a master so that no worker outlives it.
import { readdir, readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { type Daemon, isRunning } from './common.js';

export interface ProcessIdentity {
  pid: number;
  /** Field 22 of /proc/<pid>/stat, in clock ticks since boot: tells a process from a later one reusing its pid. */
  startTime: string;
}

/** Fields of /proc/<pid>/stat after the command name, which may itself contain spaces. */
async function statFields(pid: number): Promise<string[] | undefined> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined);
  if (stat === undefined) return undefined;
  return stat
    .slice(stat.lastIndexOf(')') + 2)
    .trim()
    .split(' ');
}

export async function startTimeOf(pid: number): Promise<string | undefined> {
  // After ')' the fields start at field 3 (state), so field 22 is index 19.
  return (await statFields(pid))?.[19];
}

export async function descendantsOf(root: number): Promise<ProcessIdentity[]> {
  const parentOf = new Map<number, number>();
  const startOf = new Map<number, string>();
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const fields = await statFields(Number(entry));
    if (!fields) continue;
    parentOf.set(Number(entry), Number(fields[1]));
    startOf.set(Number(entry), fields[19] ?? '');
  }
  const found: ProcessIdentity[] = [];
  const frontier = [root];
  while (frontier.length > 0) {
    const parent = frontier.pop()!;
    for (const [pid, ppid] of parentOf) {
      if (ppid === parent) {
        found.push({ pid, startTime: startOf.get(pid) ?? '' });
        frontier.push(pid);
      }
    }
  }
  return found;
}

/** Resident memory of one process in bytes; 0 when it is gone. */
export async function rssOf(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  const kib = /^VmRSS:\s+(\d+)\s+kB/m.exec(status)?.[1];
  return kib ? Number(kib) * 1024 : 0;
}

/**
 * Stops a master that stops its workers on SIGTERM. Should the master need a SIGKILL, its
 * workers would be orphaned, so they are remembered first (with their start time) and any
 * still running afterwards are killed.
 */
export async function stopWithWorkers(daemon: Daemon, graceMs: number): Promise<void> {
  const workers = await descendantsOf(daemon.pid);
  await daemon.stop(graceMs);
  await killSurvivors(workers);
}

/** SIGKILLs those of `processes` that are still the same processes, and waits until they are gone. */
export async function killSurvivors(processes: readonly ProcessIdentity[]): Promise<void> {
  for (const target of processes) {
    if ((await startTimeOf(target.pid)) === target.startTime) {
      process.kill(target.pid, 'SIGKILL');
      while (isRunning(target.pid)) await sleep(50);
    }
  }
}

/**
 * A master left running by an interrupted run, found by its pid file, is stopped with its
 * workers, but only if its command line names `argument` (its own configuration file): a pid
 * file can outlive its process, and the pid can belong to anything by now.
 */
export async function stopLeftoverMaster(pidFile: string, argument: string): Promise<void> {
  const pid = Number((await readFile(pidFile, 'utf8').catch(() => '')).trim());
  if (!Number.isInteger(pid) || pid <= 0 || !isRunning(pid)) return;
  const commandLine = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
  if (!commandLine.split('\0').includes(argument)) return;
  const workers = await descendantsOf(pid);
  const master = { pid, startTime: (await startTimeOf(pid)) ?? '' };
  process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + 30_000;
  while (isRunning(pid) && Date.now() < deadline) await sleep(100);
  await killSurvivors([master, ...workers]);
}
