// The machine is shared: other engineers' builds and tests, and other guests of the VM's host
// (steal time). A benchmark row says little if someone else took the CPU meanwhile, so rows
// wait for a quiet machine and measure how much CPU the others took while they ran.
import { setTimeout as sleep } from 'node:timers/promises';
import { cpuSeconds, machineTakenSeconds } from './procfs.js';

export interface CpuShares<T> {
  result: T;
  seconds: number;
  /** CPU `ours` used per second, in cores. */
  oursCores: number;
  /** CPU every other process (and the hypervisor, as steal) took per second, in cores. */
  otherCores: number;
  /** CPU this process used per second, in cores. */
  ownCores: number;
}

/** Runs `work` and splits the machine's CPU meanwhile into ours (the processes `ours` names), this process's, and the others'. */
export async function cpuSharesDuring<T>(
  ours: () => Promise<number[]>,
  work: () => Promise<T>,
): Promise<CpuShares<T>> {
  const pids = await ours();
  const oursBefore = await cpuSeconds(pids);
  const machineBefore = await machineTakenSeconds();
  const ownBefore = process.cpuUsage();
  const started = performance.now();
  const result = await work();
  const seconds = (performance.now() - started) / 1000;
  const oursUsed = (await cpuSeconds(pids)) - oursBefore;
  const ownUsage = process.cpuUsage(ownBefore);
  const own = (ownUsage.user + ownUsage.system) / 1e6;
  const others = (await machineTakenSeconds()) - machineBefore - oursUsed - own;
  return {
    result,
    seconds,
    oursCores: oursUsed / seconds,
    otherCores: Math.max(0, others / seconds),
    ownCores: own / seconds,
  };
}

/**
 * Waits (at most `maxSeconds`) until everything but `ours` and this process has used under
 * `quietCores` for `quietSeconds` running. Resolves whether it got quiet.
 */
export async function waitForQuiet(
  ours: () => Promise<number[]>,
  { quietCores = 0.15, quietSeconds = 2, maxSeconds = 30 } = {},
): Promise<boolean> {
  let quiet = 0;
  for (let i = 0; i < maxSeconds && quiet < quietSeconds; i++) {
    const { otherCores } = await cpuSharesDuring(ours, () => sleep(1_000));
    quiet = otherCores < quietCores ? quiet + 1 : 0;
  }
  return quiet >= quietSeconds;
}
