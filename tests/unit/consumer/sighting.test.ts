import { bestMatch, cameraResolver, sightingId, sightingsFromRecord, videoStreamName } from '../../../shared/domain/sighting';
import { UNKNOWN_PERSON } from '../../../shared/tables';
import { SEED_STREAM_ARN, faceSearchRecord, matchedFace, seedRecord } from '../../fixtures/face-search-records';

const settings = { faceMatchThreshold: 85.5, retentionDays: 30 };

describe('camera of a record', () => {
  const cameraOf = cameraResolver({ 'front-door': { videoStream: 'facewatch-dev-front-door' }, garage: { videoStream: 'facewatch-dev-garage' } });

  it('maps the video stream in the ARN back to the camera that owns it', () => {
    expect(cameraOf('arn:aws:kinesisvideo:us-east-1:123456789012:stream/facewatch-dev-garage/1700000000000')).toBe('garage');
  });

  it('falls back to the stream name for a stream this deployment does not know', () => {
    expect(cameraOf(SEED_STREAM_ARN)).toBe('Raspberry1');
  });

  it('keeps a value that is not a video stream ARN whole', () => {
    expect(videoStreamName('not-an-arn')).toBe('not-an-arn');
    expect(videoStreamName('arn:aws:kinesisvideo:r:a:stream/name-without-time')).toBe('name-without-time');
  });
});

describe('sightingsFromRecord', () => {
  it('makes one sighting per detected face of the reference record, with the match, box, pose and quality', () => {
    // Given the reference record (Josh 98.7, Jhb 95.1)
    const record = seedRecord();

    // When turned into sightings
    const sightings = sightingsFromRecord(record, 'porch', settings);

    // Then both people are seen, at the frame time, with the detail of the detected face
    expect(sightings.map((s) => [s.personId, s.similarity, s.faceIndex])).toEqual([
      ['Josh', 98.73166, 0],
      ['Jhb', 95.14247, 1],
    ]);
    const [, jhb] = sightings;
    expect(jhb).toMatchObject({
      camera: 'porch',
      seenAt: '2019-10-17T07:41:52.607Z',
      day: '2019-10-17',
      serverTimestamp: 1571298112.727,
      producerTimestamp: 1571298112.105,
      fragmentNumber: '91343852333181506862203065875037152061796366840',
      streamArn: SEED_STREAM_ARN,
      matchedFaceId: 'bb1a6bd9-b42e-4744-bb3e-7fefa49ca397',
      externalImageId: 'Jhb',
      boundingBox: { Height: 0.2698, Width: 0.1664, Left: 0.4786, Top: 0.2999 },
      pose: { Pitch: 10.26, Roll: 58.26, Yaw: 35.19 },
      quality: { Brightness: 64.47, Sharpness: 46.03 },
      confidence: 100,
    });
    // 2019-10-17T07:41:52.607Z is 1571298112 s; + 30 days
    expect(jhb.expiresAt).toBe(1571298112 + 30 * 86_400);
  });

  it('makes no sighting for a frame without faces', () => {
    expect(sightingsFromRecord(faceSearchRecord({ faces: [] }), 'porch', settings)).toEqual([]);
  });

  it('calls a face with no match, or a best match below the threshold, an unknown face without match details', () => {
    const record = faceSearchRecord({ faces: [{ matches: [] }, { matches: [matchedFace('bob', 85.4)] }, { matches: [matchedFace('carol', 85.5)] }] });
    const sightings = sightingsFromRecord(record, 'porch', settings);
    expect(sightings.map((s) => s.personId)).toEqual([UNKNOWN_PERSON, UNKNOWN_PERSON, 'carol']);
    expect(sightings[1].similarity).toBeUndefined();
    expect(sightings[1].externalImageId).toBeUndefined();
  });

  it('takes the best match whatever the order Rekognition lists them in', () => {
    const matches = [matchedFace('bob', 87), matchedFace('alice', 99), matchedFace('carol', 90)];
    expect(bestMatch(matches)?.Face.ExternalImageId).toBe('alice');
    expect(sightingsFromRecord(faceSearchRecord({ faces: [{ matches }] }), 'porch', settings)[0].personId).toBe('alice');
  });

  it('calls a match without ExternalImageId unknown: the face was not registered through this service', () => {
    const match = matchedFace('x', 99);
    delete (match.Face as { ExternalImageId?: string }).ExternalImageId;
    expect(sightingsFromRecord(faceSearchRecord({ faces: [{ matches: [match] }] }), 'porch', settings)[0].personId).toBe(UNKNOWN_PERSON);
  });
});

describe('sightingId', () => {
  it('is the same for the same face of the same frame, and differs when any part differs', () => {
    const base = sightingId(SEED_STREAM_ARN, '123', 0.5, 0);
    expect(sightingId(SEED_STREAM_ARN, '123', 0.5, 0)).toBe(base);
    expect(base).toMatch(/^[0-9a-f]{32}$/);
    const others = [
      sightingId(`${SEED_STREAM_ARN}x`, '123', 0.5, 0),
      sightingId(SEED_STREAM_ARN, '124', 0.5, 0),
      sightingId(SEED_STREAM_ARN, '123', 0.6, 0),
      sightingId(SEED_STREAM_ARN, '123', 0.5, 1),
    ];
    expect(new Set([base, ...others]).size).toBe(5);
  });

  it('is what sightingsFromRecord assigns, so a redelivered record yields the same ids', () => {
    const first = sightingsFromRecord(seedRecord(), 'porch', settings).map((s) => s.sightingId);
    const again = sightingsFromRecord(seedRecord(), 'porch', settings).map((s) => s.sightingId);
    expect(again).toEqual(first);
    expect(new Set(first).size).toBe(2);
  });
});
