// Identical reads as one. When many clients ask for the same list at once (agents polling, a
// benchmark's 32 connections), each read of the rows costs the database a query and the server
// a copy of every row, all alive together until their answers are sent. SharedReads lets the
// first reads of a key go straight through and makes the ones that arrive while `maxInFlight`
// of them are running wait and take the answer of the next read, which all of them share.
//
// A read that started before a caller asked is never shared with that caller: the one it
// waits for starts after it arrived, so it sees every write committed before it asked, on any
// replica, as a read of its own would (lib/key-batcher.ts reads by key on the same rule).

interface Waiter<Value> {
  resolve: (value: Value) => void;
  reject: (error: unknown) => void;
}

interface Pending<Value> {
  read: () => Promise<Value>;
  inFlight: number;
  waiting: Waiter<Value>[];
}

export class SharedReads<Value> {
  private readonly pending = new Map<string, Pending<Value>>();

  constructor(private readonly maxInFlight: number) {
    if (!(maxInFlight >= 1)) throw new RangeError('shared reads need at least one read in flight');
  }

  /**
   * The value of `read`, or of a read of the same `key` that started after this call. Every
   * call with one key must pass a read that gives the same answer for the same data; callers
   * share the value, so they must not change it.
   */
  read(key: string, read: () => Promise<Value>): Promise<Value> {
    return new Promise((resolve, reject) => {
      let state = this.pending.get(key);
      if (!state) {
        state = { read, inFlight: 0, waiting: [] };
        this.pending.set(key, state);
      }
      state.waiting.push({ resolve, reject });
      if (state.inFlight < this.maxInFlight) this.start(key, state);
    });
  }

  /** Reads once for every caller waiting on the key. */
  private start(key: string, state: Pending<Value>): void {
    const callers = state.waiting.splice(0);
    state.inFlight++;
    void state
      .read()
      .then(
        (value) => {
          for (const caller of callers) caller.resolve(value);
        },
        (error: unknown) => {
          for (const caller of callers) caller.reject(error);
        },
      )
      .finally(() => {
        state.inFlight--;
        if (state.waiting.length > 0) this.start(key, state);
        else if (state.inFlight === 0) this.pending.delete(key);
      });
  }
}
