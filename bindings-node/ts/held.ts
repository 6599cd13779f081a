/**
 * Values answered before their work is done: a response whose body is still streaming. The
 * bulkhead that answered one keeps its slot, and the breaker its verdict, until the body ends —
 * a stream cut mid-way is a failed call, and a hundred open streams are a hundred calls at once.
 */
const ends = new WeakMap<object, Promise<void>>();

/** Where an object of our own (an undici attempt) carries its end: a field costs less than a
 * WeakMap entry, which every garbage collection has to visit. */
export const ENDED = Symbol('seawall.ended');
export interface CarriesEnd {
  [ENDED]: Promise<void> | undefined;
}

/** Marks `value` as still working until `ended` settles (rejected: its work failed). */
export function holding<T extends object>(value: T, ended: Promise<void>): T {
  if (ENDED in value) (value as CarriesEnd)[ENDED] = ended;
  else ends.set(value, ended);
  return value;
}

/** When a value answered is done, if it is still working. */
export function endOf(value: unknown): Promise<void> | undefined {
  return typeof value === 'object' && value !== null ? ((value as Partial<CarriesEnd>)[ENDED] ?? ends.get(value)) : undefined;
}

/** Where a guard offers its slots to an integration's inline attempt (seawall's `Bulkhead`): a
 * symbol, so that the HTTP stack reaches it without importing the bulkhead's module. */
export const SLOTS = Symbol('seawall.slots');
export interface Slots {
  /** A slot's permit now, or a promise of one once queued; throws the refusal. */
  admit(signal?: AbortSignal): number | Promise<number>;
  releaseSlot(permit: number): void;
}
