// Reads a value the global setup provided, failing loudly when its component was not started.

import type { ProvidedContext } from 'vitest';
import { inject } from 'vitest';

export function required<K extends keyof ProvidedContext>(key: K): ProvidedContext[K] {
  const value = inject(key);
  if (value === undefined || value === '') {
    throw new Error(
      `test needs '${String(key)}' but its component was not started (OVERCAST_TEST_COMPONENTS?)`,
    );
  }
  return value;
}
