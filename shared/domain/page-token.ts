/**
 * Opaque page tokens: base64url JSON of where the next page starts, bound to the listing (`scope`) that made it,
 * so a token replayed against another listing or other filters is refused instead of skipping or repeating items.
 * One codec for the API's cursors and the offline twin's NextTokens; each caller words its own refusal.
 */
export function encodePageToken(scope: string, position: unknown): string {
  return Buffer.from(JSON.stringify({ q: scope, p: position }), 'utf8').toString('base64url');
}

export type PageTokenProblem = 'not-a-token' | 'other-scope';

/** The position the token holds, or why it is not a token of this scope. */
export function decodePageToken(token: string, scope: string): { position: unknown } | { problem: PageTokenProblem } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch {
    return { problem: 'not-a-token' };
  }
  if (typeof parsed !== 'object' || parsed === null || !('q' in parsed)) return { problem: 'not-a-token' };
  const { q, p } = parsed as { q?: unknown; p?: unknown };
  if (q !== scope) return { problem: 'other-scope' };
  return { position: p };
}
