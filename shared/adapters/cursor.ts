import { ValidationError } from '../errors';

/**
 * Opaque pagination cursors: base64url JSON of where the next page starts, bound to the query that made it
 * (a cursor replayed with other filters would silently skip or repeat items, so it is refused).
 */
export function encodeCursor(query: string, position: unknown): string {
  return Buffer.from(JSON.stringify({ q: query, p: position }), 'utf8').toString('base64url');
}

export function decodeCursor<T>(cursor: string, query: string, isPosition: (p: unknown) => p is T): T {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw invalid('is not a cursor returned by this API');
  }
  if (typeof parsed !== 'object' || parsed === null) throw invalid('is not a cursor returned by this API');
  const { q, p } = parsed as { q?: unknown; p?: unknown };
  if (q !== query) throw invalid('belongs to a query with other filters: repeat the same filters, or drop the cursor to start over');
  if (!isPosition(p)) throw invalid('is not a cursor returned by this API');
  return p;
}

function invalid(problem: string) {
  return new ValidationError(`cursor ${problem}`, { field: 'cursor' });
}

/** A DynamoDB key made of string attributes only (every key of our tables). */
export function isStringKey(value: unknown): value is Record<string, string> {
  return (
    typeof value === 'object' &&
    value !== null &&
    !Array.isArray(value) &&
    Object.keys(value).length > 0 &&
    Object.values(value).every((v) => typeof v === 'string')
  );
}
