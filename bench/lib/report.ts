// What every benchmark's report has in common: the revision measured, the machine it ran on,
// the verdicts against the targets, failures counted by kind, and the report itself printed
// with an optional JSON copy of the raw results (--json).
import { writeFile } from 'node:fs/promises';
import { availableParallelism, cpus, loadavg, totalmem } from 'node:os';
import { run } from '../../lib/exec.js';
import { repoRoot } from './repo.js';
import { formatTable } from './table.js';

/** The short commit of the checkout measured, or '' outside a git repository. */
export async function gitRevision(): Promise<string> {
  const result = await run(['git', 'rev-parse', '--short', 'HEAD'], { cwd: repoRoot(), allowFailure: true });
  return result.stdout.trim();
}

/** "2 cores (<CPU model>), 7.8 GiB": what a reader needs to compare runs of different machines. */
export function machineDescription(): string {
  const model = cpus()[0]?.model.trim() ?? 'unknown CPU';
  return `${availableParallelism()} cores (${model}), ${(totalmem() / 2 ** 30).toFixed(1)} GiB`;
}

/** The 1, 5 and 15 minute load averages, as `uptime` prints them. */
export function loadAverageText(load: readonly number[] = loadavg()): string {
  return load.map((value) => value.toFixed(2)).join(' ');
}

/** A start-up failure in one line: what failed, and the last line of the log it points to. */
export function firstAndLastLine(message: string): string {
  const lines = message
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean);
  return lines.length > 1 ? `${lines[0]} ${lines[lines.length - 1]}` : (lines[0] ?? message);
}

/** "3 status 409, 1 ECONNRESET", or '-' when nothing failed. */
export function failuresText(failures: Record<string, number>): string {
  const text = Object.entries(failures)
    .map(([what, count]) => `${count} ${what}`)
    .join(', ');
  return text || '-';
}

export type Verdict = 'met' | 'missed' | 'not evaluated';
/** One target of the design: what it says, whether this run met it, and the numbers that show it. */
export type TargetVerdict = [target: string, verdict: Verdict, measured: string];

export function verdictTable(verdicts: readonly TargetVerdict[]): string {
  return formatTable(['target', 'verdict', 'measured'], verdicts);
}

export const verdictsForJson = (verdicts: readonly TargetVerdict[]) =>
  verdicts.map(([target, verdict, measured]) => ({ target, verdict, measured }));

/** Prints the report's lines, and writes `results` as JSON to `jsonPath` when one was given. */
export async function publishReport(
  lines: readonly string[],
  jsonPath: string | undefined,
  results: () => unknown,
): Promise<void> {
  process.stdout.write(`${lines.join('\n')}\n`);
  if (jsonPath) await writeFile(jsonPath, `${JSON.stringify(results(), null, 2)}\n`);
}
