// The command lines of the benchmarks: `node:util` parseArgs plus the few kinds of values they
// take (counts, seconds, comma-separated lists), each refused with a one-line usage message
// naming the benchmark and the option instead of a stack trace.
import { type ParseArgsConfig, parseArgs } from 'node:util';

type OptionsConfig = NonNullable<ParseArgsConfig['options']>;

/** Options every benchmark has: where the state goes, a JSON copy of the results, no rebuild. */
export const COMMON_BENCH_OPTIONS = {
  'state-dir': { type: 'string' },
  json: { type: 'string' },
  'no-build': { type: 'boolean', default: false },
} as const satisfies OptionsConfig;

export class BenchUsageError extends Error {
  override name = 'BenchUsageError';
}

/** `text` as an integer ≥ `minimum`, or `fallback` when the option was not given. */
export function integerOption(
  option: string,
  text: string | undefined,
  fallback: number,
  minimum = 1,
): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (text.trim() === '' || !Number.isInteger(value) || value < minimum) {
    const kind = minimum === 1 ? 'a positive integer' : `an integer >= ${minimum}`;
    throw new BenchUsageError(`--${option} must be ${kind}, not ${text}`);
  }
  return value;
}

/** A comma-separated list of positive integers ("1,8,32"). */
export function integerListOption(
  option: string,
  text: string | undefined,
  fallback: readonly number[],
): number[] {
  if (text === undefined) return [...fallback];
  return text.split(',').map((item) => integerOption(option, item, 1));
}

/** A comma-separated subset of `known`, in the order given; all of them when not given. */
export function choicesOption<T extends string>(
  option: string,
  text: string | undefined,
  known: readonly T[],
): T[] {
  if (text === undefined) return [...known];
  return text.split(',').map((item) => {
    if (!(known as readonly string[]).includes(item)) {
      throw new BenchUsageError(`--${option}: unknown ${JSON.stringify(item)} (known: ${known.join(', ')})`);
    }
    return item as T;
  });
}

/** One of `known`; `fallback` when not given. */
export function choiceOption<T extends string>(
  option: string,
  text: string | undefined,
  known: readonly T[],
  fallback: T,
): T {
  if (text === undefined) return fallback;
  if (!(known as readonly string[]).includes(text)) {
    throw new BenchUsageError(
      `--${option}: expected one of ${known.join(', ')}, got ${JSON.stringify(text)}`,
    );
  }
  return text as T;
}

export interface BenchCommandLine<O extends OptionsConfig> {
  values: ReturnType<typeof parseArgs<{ options: O }>>['values'];
  integer(option: keyof O & string, fallback: number, minimum?: number): number;
  integerList(option: keyof O & string, fallback: readonly number[]): number[];
  choices<T extends string>(option: keyof O & string, known: readonly T[]): T[];
  choice<T extends string>(option: keyof O & string, known: readonly T[], fallback: T): T;
}

/**
 * Parses `args` for the benchmark `bench` (as in `npm run bench:<bench>`). A bad option or value
 * goes to `onUsageError`, which by default prints `bench:<bench>: <message>` and exits with 2.
 */
export function benchCommandLine<O extends OptionsConfig>(
  bench: string,
  options: O,
  args: string[] = process.argv.slice(2),
  onUsageError: (message: string) => never = (message) => {
    process.stderr.write(`bench:${bench}: ${message}\n`);
    process.exit(2);
  },
): BenchCommandLine<O> {
  const checked = <T>(parse: () => T): T => {
    try {
      return parse();
    } catch (err) {
      // parseArgs reports unknown options and missing values as TypeErrors with a code.
      if (err instanceof BenchUsageError || (err as NodeJS.ErrnoException).code?.startsWith('ERR_PARSE_ARGS'))
        return onUsageError((err as Error).message);
      throw err;
    }
  };
  const { values } = checked(() => parseArgs({ args, options, strict: true, allowPositionals: false }));
  const text = (option: string) => (values as Record<string, unknown>)[option] as string | undefined;
  return {
    values,
    integer: (option, fallback, minimum) =>
      checked(() => integerOption(option, text(option), fallback, minimum)),
    integerList: (option, fallback) => checked(() => integerListOption(option, text(option), fallback)),
    choices: (option, known) => checked(() => choicesOption(option, text(option), known)),
    choice: (option, known, fallback) => checked(() => choiceOption(option, text(option), known, fallback)),
  };
}
