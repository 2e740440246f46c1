import { decodeCursor, encodeCursor, isStringKey } from '../../../shared/adapters/cursor';
import { decodePageToken, encodePageToken } from '../../../shared/domain/page-token';
import { ValidationError } from '../../../shared/errors';

describe('page tokens', () => {
  it('given a token of a listing, when it is decoded for that listing, then it gives back the position', () => {
    const token = encodePageToken('faces:c1', { after: 42, key: 'é/x' });
    expect(token).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodePageToken(token, 'faces:c1')).toEqual({ position: { after: 42, key: 'é/x' } });
  });

  it('given a token of another listing, when it is decoded, then it is refused as other-scope', () => {
    expect(decodePageToken(encodePageToken('faces:c1', 1), 'faces:c2')).toEqual({ problem: 'other-scope' });
  });

  it.each(['', 'not base64 at all!', Buffer.from('[1,2]').toString('base64url'), Buffer.from('{"p":1}').toString('base64url')])(
    'given %j, when it is decoded, then it is not a token',
    (token) => expect(decodePageToken(token, 'x')).toEqual({ problem: 'not-a-token' }),
  );

  it('given an API cursor replayed with other filters, when it is decoded, then the error says to repeat the filters', () => {
    const cursor = encodeCursor('camera=a', { pk: 'A' });
    expect(decodeCursor(cursor, 'camera=a', isStringKey)).toEqual({ pk: 'A' });
    expect(() => decodeCursor(cursor, 'camera=b', isStringKey)).toThrow(/repeat the same filters/);
    expect(() => decodeCursor(encodeCursor('camera=a', { pk: 1 }), 'camera=a', isStringKey)).toThrow(ValidationError);
  });
});
