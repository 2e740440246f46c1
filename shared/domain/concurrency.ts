/** Optimistic concurrency: write only if the stored item is still the one that was read. */
export type Expected = { absent: true } | { sequencer: string | undefined };

/** The stored item changed since it was read: read again and decide again. */
export class ConcurrentChangeError extends Error {
  override readonly name = 'ConcurrentChangeError';
}
