// A watch answers with one JSON event per line, and the network cuts the stream wherever it
// likes: a chunk may end in the middle of a line, or of a multi-byte character.
import { StringDecoder } from 'node:string_decoder';

export interface LineSplitter {
  /** Takes the next chunk; calls `onLine` for each line it completes. */
  push(chunk: Buffer): void;
  /** The stream ended: a last line without its newline is still a line. */
  end(): void;
}

export function splitLines(onLine: (line: string) => void): LineSplitter {
  const decoder = new StringDecoder('utf8');
  let partial = '';
  const emit = (text: string) => {
    partial += text;
    let newline = partial.indexOf('\n');
    while (newline !== -1) {
      const line = partial.slice(0, newline).replace(/\r$/, '');
      partial = partial.slice(newline + 1);
      if (line.trim() !== '') onLine(line);
      newline = partial.indexOf('\n');
    }
  };
  return {
    push: (chunk) => emit(decoder.write(chunk)),
    end() {
      emit(`${decoder.end()}\n`);
    },
  };
}
