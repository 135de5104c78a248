// Memory and CPU of a server's processes, read from /proc: a server may be one process
// (Overcast) or a master with workers (uWSGI), so both are measured over the process tree.
import { readdir, readFile } from 'node:fs/promises';
import { run } from '../../lib/exec.js';

/** Fields of /proc/<pid>/stat after the command name (which may contain spaces); index 0 is field 3. */
async function statFields(pid: number): Promise<string[] | undefined> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined);
  if (stat === undefined) return undefined;
  return stat
    .slice(stat.lastIndexOf(')') + 2)
    .trim()
    .split(' ');
}

/** `root` and every process descending from it, as long as `root` is alive. */
export async function processTree(root: number): Promise<number[]> {
  const children = new Map<number, number[]>();
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const parent = Number((await statFields(Number(entry)))?.[1]);
    if (!Number.isInteger(parent)) continue;
    children.set(parent, [...(children.get(parent) ?? []), Number(entry)]);
  }
  if ((await statFields(root)) === undefined) return [];
  const tree = [root];
  for (let i = 0; i < tree.length; i++) tree.push(...(children.get(tree[i]!) ?? []));
  return tree;
}

/** Sum of a /proc/<pid>/status memory field over the processes, in bytes; gone processes count 0. */
async function statusBytes(field: 'VmRSS' | 'VmHWM', pids: readonly number[]): Promise<number> {
  let total = 0;
  for (const pid of pids) {
    const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
    const kib = new RegExp(`^${field}:\\s+(\\d+)\\s+kB`, 'm').exec(status)?.[1];
    if (kib) total += Number(kib) * 1024;
  }
  return total;
}

/** Resident memory now (VmRSS), summed over the processes, in bytes. */
export const rssBytes = (pids: readonly number[]) => statusBytes('VmRSS', pids);

/**
 * The highest resident memory each process has had since it started (VmHWM, kept by the
 * kernel), summed: a peak no sampling can miss.
 */
export const peakRssBytes = (pids: readonly number[]) => statusBytes('VmHWM', pids);

let clockTicks: number | undefined;

/** User + system CPU time the processes have used so far, in seconds. */
export async function cpuSeconds(pids: readonly number[]): Promise<number> {
  clockTicks ??= Number((await run(['getconf', 'CLK_TCK'])).stdout.trim()) || 100;
  let ticks = 0;
  for (const pid of pids) {
    const fields = await statFields(pid);
    // utime and stime are fields 14 and 15.
    if (fields) ticks += Number(fields[11]) + Number(fields[12]);
  }
  return ticks / clockTicks;
}

/**
 * CPU time the whole machine has spent busy (user, nice, system, irq, softirq) or had stolen by
 * the hypervisor for other virtual machines (steal) since boot, in seconds summed over all
 * cores. Against a server's and the generator's own CPU over the same interval, it tells how
 * much CPU others took while a row was measured: other processes here, or other guests of the
 * same host (which on a shared VM is often most of it).
 */
export async function machineTakenSeconds(): Promise<number> {
  clockTicks ??= Number((await run(['getconf', 'CLK_TCK'])).stdout.trim()) || 100;
  const line = (await readFile('/proc/stat', 'utf8')).split('\n').find((l) => l.startsWith('cpu '));
  if (!line) throw new Error('/proc/stat has no cpu line');
  const [user, nice, system, , , irq, softirq, steal] = line.trim().split(/\s+/).slice(1).map(Number);
  return (
    ((user ?? 0) + (nice ?? 0) + (system ?? 0) + (irq ?? 0) + (softirq ?? 0) + (steal ?? 0)) / clockTicks
  );
}
