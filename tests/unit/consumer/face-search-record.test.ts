import { decodeFaceSearchRecord, parseFaceSearchRecord } from '../../../shared/domain/face-search-record';
import { PermanentInputError } from '../../../shared/errors';
import { faceSearchRecord, matchedFace, seedRecord, toBase64 } from '../../fixtures/face-search-records';

const SEED_FRAGMENT = '91343852333181506862203065875037152061796366840';

function decodeError(data: string): PermanentInputError {
  try {
    decodeFaceSearchRecord(data);
  } catch (error) {
    if (error instanceof PermanentInputError) return error;
    throw error;
  }
  throw new Error('expected a PermanentInputError');
}

describe('decodeFaceSearchRecord', () => {
  it('decodes the reference record written as Rekognition writes it (raw JSON text), keeping the fragment number exact', () => {
    // Given the reference payload as text, numbers in Rekognition's exponent notation
    const text = `{"InputInformation":{"KinesisVideo":{"StreamArn":"arn:aws:kinesisvideo:us-west-2:332346530000:stream/Raspberry1/1568808910000",
      "FragmentNumber":"${SEED_FRAGMENT}","ServerTimestamp":1.571298112727E9,"ProducerTimestamp":1.571298112105E9,
      "FrameOffsetInSeconds":0.5019999742507935}},"StreamProcessorInformation":{"Status":"RUNNING"},
      "FaceSearchResponse":[{"DetectedFace":{"BoundingBox":{"Height":0.26980263,"Width":0.16640267,"Left":0.47855082,"Top":0.29992324},
      "Confidence":100.0,"Landmarks":[{"X":0.572644,"Y":0.37542638,"Type":"eyeLeft"}],"Pose":{"Pitch":10.257913,"Roll":58.25943,"Yaw":35.188484},
      "Quality":{"Brightness":64.466415,"Sharpness":46.0298}},"MatchedFaces":[{"Similarity":95.14247,"Face":{"BoundingBox":{"Height":0.433341,
      "Width":0.182538,"Left":0.405325,"Top":0.172389},"FaceId":"bb1a6bd9-b42e-4744-bb3e-7fefa49ca397","Confidence":100.0,
      "ImageId":"bc5df041-325a-38d8-a9de-c2e99796e865","ExternalImageId":"Jhb"}}]}]}`;

    // When decoded from base64
    const record = decodeFaceSearchRecord(Buffer.from(text).toString('base64'));

    // Then every field is there, the fragment number still a string with all its digits
    expect(record.InputInformation.KinesisVideo.FragmentNumber).toBe(SEED_FRAGMENT);
    expect(record.InputInformation.KinesisVideo.ServerTimestamp).toBe(1571298112.727);
    expect(record.FaceSearchResponse).toHaveLength(1);
    expect(record.FaceSearchResponse[0].MatchedFaces[0].Face.ExternalImageId).toBe('Jhb');
    expect(record.FaceSearchResponse[0].DetectedFace.Pose).toEqual({ Pitch: 10.257913, Roll: 58.25943, Yaw: 35.188484 });
  });

  it('accepts an empty FaceSearchResponse (a frame with no face)', () => {
    const record = decodeFaceSearchRecord(toBase64(faceSearchRecord({ faces: [] })));
    expect(record.FaceSearchResponse).toEqual([]);
  });

  it('accepts an empty MatchedFaces (an unknown face) and several faces', () => {
    const record = decodeFaceSearchRecord(toBase64(faceSearchRecord({ faces: [{ matches: [] }, { matches: [matchedFace('bob', 90)] }, { matches: [] }] })));
    expect(record.FaceSearchResponse.map((f) => f.MatchedFaces.length)).toEqual([0, 1, 0]);
  });

  it('tolerates fields it does not know, at any depth', () => {
    // Given a record with extra fields
    const value = seedRecord() as unknown as Record<string, any>;
    value.NewTopLevel = { anything: true };
    value.FaceSearchResponse[0].DetectedFace.Emotions = [{ Type: 'CALM' }];
    value.InputInformation.KinesisVideo.Extra = 1;

    // When decoded, Then it decodes
    expect(decodeFaceSearchRecord(toBase64(value)).FaceSearchResponse).toHaveLength(2);
  });

  it('refuses a fragment number written as a JSON number: its digits are already lost', () => {
    const value = seedRecord() as unknown as Record<string, any>;
    value.InputInformation.KinesisVideo.FragmentNumber = 91343852333181506862203065875037152061796366840;
    expect(decodeError(toBase64(value)).message).toMatch(/InputInformation\.KinesisVideo\.FragmentNumber/);
  });

  it('says which fields are wrong when the JSON is not a face-search record', () => {
    const value = seedRecord() as unknown as Record<string, any>;
    delete value.InputInformation.KinesisVideo.ProducerTimestamp;
    value.FaceSearchResponse[1].MatchedFaces[0].Similarity = 'high';
    const message = decodeError(toBase64(value)).message;
    expect(message).toMatch(/^not a face-search record: /);
    expect(message).toContain('InputInformation.KinesisVideo.ProducerTimestamp');
    expect(message).toContain('FaceSearchResponse.1.MatchedFaces.0.Similarity');
  });

  it('refuses data that is not base64, not JSON, or JSON of another shape, each with its reason', () => {
    expect(decodeError('abc').message).toMatch(/not base64/);
    expect(decodeError('ab$d').message).toMatch(/not base64/);
    expect(decodeError(Buffer.from('{"InputInformation":').toString('base64')).message).toMatch(/not JSON/);
    expect(decodeError(toBase64([1, 2, 3])).message).toMatch(/not a face-search record: \(root\)/);
    expect(decodeError(toBase64('null')).message).toMatch(/not a face-search record/);
  });

  it('parseFaceSearchRecord validates an already parsed value the same way', () => {
    expect(parseFaceSearchRecord(seedRecord()).FaceSearchResponse).toHaveLength(2);
    expect(() => parseFaceSearchRecord({})).toThrow(PermanentInputError);
  });
});
