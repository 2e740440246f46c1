import { compareSequencers, decodeS3EventKey, parsePhotoKey } from '../../../shared/domain/photo-key';
import { personIdFromName } from '../../../shared/domain/person-id';
import { rejections } from '../../../shared/domain/photo-rejection';

describe('decodeS3EventKey', () => {
  it('decodes percent-encoding and + as a space', () => {
    expect(decodeS3EventKey('faces/Jos%C3%A9+Mar%C3%ADa/1.jpg')).toBe('faces/José María/1.jpg');
    expect(decodeS3EventKey("faces/O%27Brien/a+b%2Bc.png")).toBe("faces/O'Brien/a b+c.png");
  });

  it('keeps a key that is not valid percent-encoding', () => {
    expect(decodeS3EventKey('faces/100%/x.jpg')).toBe('faces/100%/x.jpg');
  });
});

describe('parsePhotoKey', () => {
  it('finds the person and the format of a photo', () => {
    expect(parsePhotoKey('faces/José María/Holiday.JPEG')).toEqual({
      kind: 'photo',
      key: 'faces/José María/Holiday.JPEG',
      folder: 'José María',
      fileName: 'Holiday.JPEG',
      personId: personIdFromName('José María'),
      format: 'jpeg',
    });
    expect(parsePhotoKey('faces/bob/a.png')).toMatchObject({ kind: 'photo', format: 'png', personId: 'bob' });
  });

  it('marks a file of another type as a photo without a format', () => {
    expect(parsePhotoKey('faces/bob/notes.txt')).toMatchObject({ kind: 'photo', format: undefined });
    expect(parsePhotoKey('faces/bob/README')).toMatchObject({ kind: 'photo', format: undefined });
  });

  it.each(['faces/x.jpg', 'faces/a/b/c.jpg', 'faces//c.jpg', 'other/bob/x.jpg', 'faces/ /x.jpg'])('puts %s outside the layout', (key) => {
    expect(parsePhotoKey(key)).toEqual({ kind: 'outside-layout', key });
  });

  it('recognises a console-made folder placeholder', () => {
    expect(parsePhotoKey('faces/bob/')).toEqual({ kind: 'folder', key: 'faces/bob/' });
  });
});

describe('compareSequencers', () => {
  it('compares hex sequencers of different lengths as numbers', () => {
    expect(compareSequencers('0055AED6DCD90281E5', '0055AED6DCD90281E6')).toBeLessThan(0);
    expect(compareSequencers('FF', '0100')).toBeLessThan(0);
    expect(compareSequencers('00ab', 'AB')).toBe(0);
  });
});

describe('rejections', () => {
  it('words Rekognition reasons and keeps their codes', () => {
    const r = rejections.faceRefused(['LOW_SHARPNESS', 'LOW_BRIGHTNESS', 'LOW_SHARPNESS']);
    expect(r.reason).toBe('FACE_REFUSED');
    expect(r.message).toContain('blurry (LOW_SHARPNESS)');
    expect(r.message).toContain('too dark (LOW_BRIGHTNESS)');
    expect(r.message.match(/LOW_SHARPNESS/g)).toHaveLength(1);
  });

  it('says the size of a photo over the limit', () => {
    expect(rejections.tooLarge(16 * 1024 * 1024).message).toContain('16.0 MB');
  });
});
