import { decodePageToken, encodePageToken } from '../domain/page-token';
import { ValidationError } from '../errors';

/** The API's pagination cursors: page tokens (shared/domain/page-token.ts) scoped to the query that made them. */
export const encodeCursor = (query: string, position: unknown): string => encodePageToken(query, position);

export function decodeCursor<T>(cursor: string, query: string, isPosition: (p: unknown) => p is T): T {
  const decoded = decodePageToken(cursor, query);
  if ('problem' in decoded) {
    throw invalid(decoded.problem === 'other-scope' ? 'belongs to a query with other filters: repeat the same filters, or drop the cursor to start over' : 'is not a cursor returned by this API');
  }
  if (!isPosition(decoded.position)) throw invalid('is not a cursor returned by this API');
  return decoded.position;
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
