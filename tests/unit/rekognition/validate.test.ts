/** Requests to the local Rekognition: parameter validation as AWS words it, pagination tokens, image format, region, ImageId. */
import { Checker, decodeToken, encodeToken, EXTERNAL_IMAGE_ID } from '../../../local/rekognition/validate';
import { RekognitionError } from '../../../local/rekognition/errors';
import { sniffFormat } from '../../../local/rekognition/images';
import { regionFromAuthorization } from '../../../local/rekognition/server';
import { imageIdFor } from '../../../local/rekognition/service';

describe('request validation and identifiers', () => {
  const errorOf = (fn: () => void) => {
    try {
      fn();
    } catch (e) {
      return e as RekognitionError;
    }
    throw new Error('no error');
  };
  test('given parameters breaking several constraints, when checked, then one ValidationException lists each in AWS wording', () => {
    const c = new Checker({ ExternalImageId: 'has space', MaxFaces: 0 });
    c.string('ExternalImageId', { pattern: EXTERNAL_IMAGE_ID, max: 255 });
    c.number('MaxFaces', { min: 1 });
    c.string('CollectionId', { required: true });
    const e = errorOf(() => c.done());
    expect(e.type).toBe('ValidationException');
    expect(e.message).toMatch(/^3 validation errors detected/);
    expect(e.message).toContain("Value 'has space' at 'externalImageId' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.\\-:]+");
    expect(e.message).toContain("at 'maxFaces' failed to satisfy constraint: Member must have value greater than or equal to 1");
    expect(e.toBody()).toMatchObject({ __type: 'ValidationException' });
    const ok = new Checker({ ExternalImageId: 'Jhb:cam-1_x.y' });
    ok.string('ExternalImageId', { pattern: EXTERNAL_IMAGE_ID });
    expect(() => ok.done()).not.toThrow();
  });
  test('given a pagination token, when decoded for another listing or garbled, then it is refused', () => {
    const t = encodeToken('faces:a', 7);
    expect(decodeToken(t, 'faces:a')).toBe(7);
    expect(decodeToken(t, 'faces:b')).toBeNull();
    expect(decodeToken('%%%', 'faces:a')).toBeNull();
  });
  test('given request bytes and headers, then the image format, the SigV4 region and a deterministic ImageId are derived', () => {
    expect(sniffFormat(Buffer.from([0xff, 0xd8, 0xff, 0xe0]))).toBe('jpeg');
    expect(sniffFormat(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))).toBe('png');
    expect(sniffFormat(Buffer.from('GIF89a'))).toBeNull();
    expect(regionFromAuthorization('AWS4-HMAC-SHA256 Credential=AK/20240101/eu-west-1/rekognition/aws4_request, SignedHeaders=x', 'us-east-1')).toBe('eu-west-1');
    expect(regionFromAuthorization(undefined, 'us-east-1')).toBe('us-east-1');
    expect(imageIdFor(Buffer.from('a'))).toBe(imageIdFor(Buffer.from('a')));
    expect(imageIdFor(Buffer.from('a'))).not.toBe(imageIdFor(Buffer.from('b')));
    expect(imageIdFor(Buffer.from('a'))).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-3[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });
});
