/** One page of a listing: its items and, unless it is the last page, the opaque cursor of the next one. */
export interface Page<T> {
  items: T[];
  nextCursor?: string;
}
