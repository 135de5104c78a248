import { describe, expect, it } from 'vitest';
import {
  BenchUsageError,
  benchCommandLine,
  choiceOption,
  choicesOption,
  integerListOption,
  integerOption,
} from './options.js';

describe('integerOption', () => {
  it('takes the fallback when the option is absent and the value when it is a whole number in range', () => {
    expect(integerOption('duration', undefined, 10)).toBe(10);
    expect(integerOption('duration', '25', 10)).toBe(25);
    expect(integerOption('warmup', '0', 3, 0)).toBe(0);
  });

  it('refuses fractions, words, blanks and values below the minimum, naming the option', () => {
    for (const text of ['1.5', 'ten', '', ' ', '0', '-3']) {
      expect(() => integerOption('duration', text, 10)).toThrow(BenchUsageError);
    }
    expect(() => integerOption('warmup', '-1', 3, 0)).toThrow('--warmup must be an integer >= 0, not -1');
    expect(() => integerOption('runs', '0', 3)).toThrow('--runs must be a positive integer, not 0');
  });
});

describe('integerListOption and choicesOption', () => {
  it('split on commas, keep the order given and check every item', () => {
    expect(integerListOption('concurrency', undefined, [8, 32])).toEqual([8, 32]);
    expect(integerListOption('concurrency', '32,1', [8])).toEqual([32, 1]);
    expect(() => integerListOption('concurrency', '8,,32', [8])).toThrow(BenchUsageError);
    const known = ['create', 'list', 'filter'] as const;
    expect(choicesOption('ops', undefined, known)).toEqual(['create', 'list', 'filter']);
    expect(choicesOption('ops', 'filter,create', known)).toEqual(['filter', 'create']);
    expect(() => choicesOption('ops', 'create,delete', known)).toThrow(
      '--ops: unknown "delete" (known: create, list, filter)',
    );
  });
});

describe('choiceOption', () => {
  it('takes the fallback when absent, one known value when given, and refuses lists and unknowns', () => {
    const known = ['socket', 'tcp'] as const;
    expect(choiceOption('db-transport', undefined, known, 'socket')).toBe('socket');
    expect(choiceOption('db-transport', 'tcp', known, 'socket')).toBe('tcp');
    expect(() => choiceOption('db-transport', 'socket,tcp', known, 'socket')).toThrow(
      '--db-transport: expected one of socket, tcp, got "socket,tcp"',
    );
    expect(() => choiceOption('db-transport', 'pipe', known, 'socket')).toThrow(BenchUsageError);
  });
});

describe('benchCommandLine', () => {
  const refuse = (message: string): never => {
    throw new Error(`usage: ${message}`);
  };
  const spec = { duration: { type: 'string' }, 'no-build': { type: 'boolean', default: false } } as const;

  it('parses the arguments and reads typed values from them', () => {
    const cli = benchCommandLine('test', spec, ['--duration', '7', '--no-build'], refuse);
    expect(cli.values['no-build']).toBe(true);
    expect(cli.integer('duration', 10)).toBe(7);
    expect(benchCommandLine('test', spec, [], refuse).integer('duration', 10)).toBe(10);
  });

  it('hands unknown options, positionals and bad values to the usage handler', () => {
    expect(() => benchCommandLine('test', spec, ['--durations', '7'], refuse)).toThrow(/^usage: .*durations/);
    expect(() => benchCommandLine('test', spec, ['extra'], refuse)).toThrow(/^usage: /);
    const cli = benchCommandLine('test', spec, ['--duration', 'soon'], refuse);
    expect(() => cli.integer('duration', 10)).toThrow(
      'usage: --duration must be a positive integer, not soon',
    );
  });
});
