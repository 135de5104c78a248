import { describe, expect, it } from 'vitest';
import { isTerminalFor, nextConditions } from './conditions.js';
import { parseDuration } from './reconciler.js';

const T0 = '2026-11-23T08:00:00.000Z';
const T1 = '2026-11-23T08:05:00.000Z';

describe('the two conditions', () => {
  it('a usable resource is Available/Success and Progressing False/Success, for the generation', () => {
    const conditions = nextConditions(
      undefined,
      {
        available: true,
        progressing: false,
        reason: 'Success',
        message: 'Network is up to date',
        availableMessage: 'Network is available',
      },
      3,
      T0,
    );
    expect(conditions).toEqual([
      {
        type: 'Available',
        status: 'True',
        reason: 'Success',
        message: 'Network is available',
        observedGeneration: 3,
        lastTransitionTime: T0,
      },
      {
        type: 'Progressing',
        status: 'False',
        reason: 'Success',
        message: 'Network is up to date',
        observedGeneration: 3,
        lastTransitionTime: T0,
      },
    ]);
  });

  it('keeps the transition time while a status stays, and moves it when it flips', () => {
    const waiting = nextConditions(
      undefined,
      {
        available: false,
        progressing: true,
        reason: 'WaitingForDependency',
        message: 'Waiting for Project/nebula to be available',
      },
      1,
      T0,
    );
    const retrying = nextConditions(
      waiting,
      { available: false, progressing: true, reason: 'TransientError', message: 'cloud unreachable' },
      1,
      T1,
    );
    expect(retrying.map((condition) => condition.lastTransitionTime)).toEqual([T0, T0]);
    expect(retrying[0]).toMatchObject({ status: 'False', reason: 'TransientError' });
    const stuck = nextConditions(
      retrying,
      { available: false, progressing: false, reason: 'InvalidConfiguration', message: 'quota exceeded' },
      1,
      T1,
    );
    expect(stuck[1]).toMatchObject({
      status: 'False',
      reason: 'InvalidConfiguration',
      lastTransitionTime: T1,
    });
  });

  it('a terminal reason holds only for the generation it was written for', () => {
    const status = {
      conditions: nextConditions(
        undefined,
        { available: false, progressing: false, reason: 'InvalidConfiguration', message: '2 Networks match' },
        4,
        T0,
      ),
    };
    expect(isTerminalFor(status, 4)).toBe(true);
    expect(isTerminalFor(status, 5)).toBe(false);
    const done = {
      conditions: nextConditions(
        undefined,
        { available: true, progressing: false, reason: 'Success', message: '' },
        4,
        T0,
      ),
    };
    expect(isTerminalFor(done, 4)).toBe(false);
  });
});

describe('resync periods', () => {
  it('reads Go durations', () => {
    expect(parseDuration('10m')).toBe(600_000);
    expect(parseDuration('1h30m')).toBe(5_400_000);
    expect(parseDuration('1.5s')).toBe(1_500);
    expect(parseDuration('250ms')).toBe(250);
    expect(parseDuration('0s')).toBe(0);
  });
});
