// Conversions at the edge between portable column types (see migrations.ts) and values:
// booleans are integer 0/1, structured data is JSON text, timestamps ISO-8601 strings.

export const fromBit = (value: number): boolean => value === 1;
export const toBit = (value: boolean): number => (value ? 1 : 0);

export function fromJsonColumn<T = Record<string, unknown>>(text: string): T {
  return JSON.parse(text) as T;
}

export const isoNow = (): string => new Date().toISOString();
