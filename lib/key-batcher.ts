// Many lookups by key as one query. Under load most of the cost of a small indexed read is the
// round trip (a statement to compile and send, a database thread to wake, an answer to parse),
// not the rows; a query for twenty keys costs little more than one for a single key. A
// KeyBatcher lets the first lookups of a group go straight to the database and makes the ones
// that arrive while `maxInFlight` of them are running wait and go together in the next query.
// An idle server therefore adds no delay, and a busy one sends fewer, larger queries.
//
// Each lookup is still a read made after it was asked for, never an answer remembered from
// before: a write committed before the lookup started is always seen, on any replica.

export interface KeyBatcherOptions {
  /** Queries of one group running at once. */
  maxInFlight: number;
  /** Keys in one query at most. */
  maxKeys: number;
}

/** Rows for the keys asked; every row belongs to exactly one key. */
export type BatchQuery<Row> = (keys: readonly string[]) => Promise<Row[]>;

interface Waiting<Row> {
  keys: readonly string[];
  resolve: (rows: Row[]) => void;
  reject: (error: unknown) => void;
}

interface Group<Row> {
  query: BatchQuery<Row>;
  inFlight: number;
  waiting: Waiting<Row>[];
}

export class KeyBatcher<Row> {
  private readonly groups = new Map<string, Group<Row>>();

  constructor(
    private readonly keyOf: (row: Row) => string,
    private readonly options: KeyBatcherOptions,
  ) {
    if (!(options.maxInFlight >= 1 && options.maxKeys >= 1)) {
      throw new RangeError('a key batcher needs at least one query in flight and one key per query');
    }
  }

  /**
   * The rows of `keys`, in the order `query` returns them. Lookups of one `group` may be
   * answered by one query for all their keys, so every lookup of a group must pass a query
   * that returns the same rows for the same keys.
   */
  load(group: string, keys: readonly string[], query: BatchQuery<Row>): Promise<Row[]> {
    return new Promise((resolve, reject) => {
      let state = this.groups.get(group);
      if (!state) {
        state = { query, inFlight: 0, waiting: [] };
        this.groups.set(group, state);
      }
      state.waiting.push({ keys, resolve, reject });
      if (state.inFlight < this.options.maxInFlight) this.dispatch(group, state);
    });
  }

  /** Sends the waiting lookups of a group, as many as fit in one query. */
  private dispatch(group: string, state: Group<Row>): void {
    const batch: Waiting<Row>[] = [];
    const keys = new Set<string>();
    while (state.waiting.length > 0) {
      const next = state.waiting[0]!;
      // A lookup with more keys than a query holds still goes, alone.
      if (batch.length > 0 && keys.size + next.keys.length > this.options.maxKeys) break;
      state.waiting.shift();
      batch.push(next);
      for (const key of next.keys) keys.add(key);
    }
    state.inFlight++;
    void this.answer(batch, [...keys], state.query).finally(() => {
      state.inFlight--;
      if (state.waiting.length > 0) this.dispatch(group, state);
      else if (state.inFlight === 0) this.groups.delete(group);
    });
  }

  /** Runs one query and hands each lookup of the batch its rows, or the query's error. */
  private async answer(batch: Waiting<Row>[], keys: string[], query: BatchQuery<Row>): Promise<void> {
    try {
      const rows = await query(keys);
      const answers = batch.map((lookup) => ({ wanted: new Set(lookup.keys), rows: [] as Row[] }));
      for (const row of rows) {
        const key = this.keyOf(row);
        for (const answer of answers) if (answer.wanted.has(key)) answer.rows.push(row);
      }
      for (let i = 0; i < batch.length; i++) batch[i]!.resolve(answers[i]!.rows);
    } catch (error) {
      for (const lookup of batch) lookup.reject(error);
    }
  }
}
