import { describe, expect, it } from 'vitest';
import { DONE } from './queue.js';
import { parseDuration, resyncAfter } from './reconciler.js';

describe('resync timing', () => {
  it('reads Go durations as the CRD accepts them', () => {
    expect(parseDuration('10m')).toBe(600_000);
    expect(parseDuration('1h30m')).toBe(5_400_000);
    expect(parseDuration('500ms')).toBe(500);
    expect(parseDuration('1.5s')).toBe(1_500);
    expect(parseDuration('0s')).toBe(0);
  });

  it('a period of 0 turns drift detection off', () => {
    expect(resyncAfter(0, Math.random)).toBe(DONE);
  });

  it('comes back after the period ±10%, spread over that whole range', () => {
    expect(resyncAfter(60_000, () => 0)).toEqual({ kind: 'after', ms: 54_000 });
    expect(resyncAfter(60_000, () => 0.5)).toEqual({ kind: 'after', ms: 60_000 });
    expect(resyncAfter(60_000, () => 0.999_999)).toEqual({ kind: 'after', ms: 66_000 });
    // With the real generator, a thousand objects applied together do not resync together.
    const delays = Array.from({ length: 1_000 }, () => {
      const result = resyncAfter(60_000, Math.random);
      return result.kind === 'after' ? result.ms : Number.NaN;
    });
    expect(Math.min(...delays)).toBeGreaterThanOrEqual(54_000);
    expect(Math.max(...delays)).toBeLessThanOrEqual(66_000);
    expect(new Set(delays.map((ms) => Math.floor(ms / 1_000))).size).toBeGreaterThanOrEqual(10);
  });
});
