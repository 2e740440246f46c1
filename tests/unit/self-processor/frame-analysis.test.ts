import { decodeFaceSearchRecord } from '../../../shared/domain/face-search-record';
import {
  buildFaceSearchRecord,
  cropBoxToFrame,
  locateFrame,
  paddedCropRegion,
  searchedTheSameFace,
  type VideoFragment,
} from '../../../shared/domain/frame-analysis';
import { sightingsFromRecord } from '../../../shared/domain/sighting';
import { snapshotKey } from '../../../shared/domain/snapshot-key';

const STREAM_ARN = 'arn:aws:kinesisvideo:us-east-1:123456789012:stream/facewatch-dev-front-door/1568808910000';

describe('buildFaceSearchRecord', () => {
  it('gives the managed processor record, field for field, from a frame location and Rekognition answers', () => {
    // Given a frame 502 ms into its fragment, one face DetectFaces found (with an extra landmark and
    // attribute the record does not carry) and two matches in no particular order
    const location = {
      streamArn: STREAM_ARN,
      fragmentNumber: '91343852333181506862203065875037152061796366840',
      serverStartMs: 1571298112727,
      producerStartMs: 1571298112105,
      offsetMs: 502,
    };
    const detected = {
      BoundingBox: { Width: 0.1664, Height: 0.2698, Left: 0.4786, Top: 0.2999 },
      Confidence: 99.99,
      Landmarks: [
        { Type: 'eyeLeft', X: 0.5726, Y: 0.3754 },
        { Type: 'eyeRight', X: 0.6012, Y: 0.3711 },
        { Type: 'chinBottom', X: 0.58, Y: 0.55 },
        { Type: 'mouthLeft', X: 0.571, Y: 0.47 },
        { Type: 'mouthRight', X: 0.598, Y: 0.468 },
        { Type: 'nose', X: 0.585, Y: 0.42 },
      ],
      Pose: { Pitch: 10.26, Roll: 58.26, Yaw: 35.19 },
      Quality: { Brightness: 64.47, Sharpness: 46.03 },
      Smile: { Value: true, Confidence: 90 },
    };
    const matches = [
      { Similarity: 88.5, Face: { FaceId: 'f-2', BoundingBox: { Width: 0.2, Height: 0.3, Left: 0.1, Top: 0.2 }, ImageId: 'i-2', ExternalImageId: 'Jhb', Confidence: 99.9, IndexFacesModelVersion: '7.0' } },
      { Similarity: 95.14, Face: { FaceId: 'bb1a6bd9-b42e-4744-bb3e-7fefa49ca397', BoundingBox: { Width: 0.1825, Height: 0.4333, Left: 0.4053, Top: 0.1724 }, ImageId: 'bc5df041-325a-38d8-a9de-c2e99796e865', ExternalImageId: 'Jhb', Confidence: 100 } },
    ];

    // When the record is built
    const record = buildFaceSearchRecord(location, [{ detected, matches }]);

    // Then it is exactly the managed processor's record, best match first
    expect(record).toStrictEqual({
      InputInformation: {
        KinesisVideo: {
          StreamArn: STREAM_ARN,
          FragmentNumber: '91343852333181506862203065875037152061796366840',
          ServerTimestamp: 1571298112.727,
          ProducerTimestamp: 1571298112.105,
          FrameOffsetInSeconds: 0.502,
        },
      },
      StreamProcessorInformation: { Status: 'RUNNING' },
      FaceSearchResponse: [
        {
          DetectedFace: {
            BoundingBox: { Height: 0.2698, Width: 0.1664, Left: 0.4786, Top: 0.2999 },
            Confidence: 99.99,
            Landmarks: [
              { X: 0.5726, Y: 0.3754, Type: 'eyeLeft' },
              { X: 0.6012, Y: 0.3711, Type: 'eyeRight' },
              { X: 0.571, Y: 0.47, Type: 'mouthLeft' },
              { X: 0.598, Y: 0.468, Type: 'mouthRight' },
              { X: 0.585, Y: 0.42, Type: 'nose' },
            ],
            Pose: { Pitch: 10.26, Roll: 58.26, Yaw: 35.19 },
            Quality: { Brightness: 64.47, Sharpness: 46.03 },
          },
          MatchedFaces: [
            {
              Similarity: 95.14,
              Face: {
                BoundingBox: { Height: 0.4333, Width: 0.1825, Left: 0.4053, Top: 0.1724 },
                FaceId: 'bb1a6bd9-b42e-4744-bb3e-7fefa49ca397',
                Confidence: 100,
                ImageId: 'bc5df041-325a-38d8-a9de-c2e99796e865',
                ExternalImageId: 'Jhb',
              },
            },
            {
              Similarity: 88.5,
              Face: { BoundingBox: { Height: 0.3, Width: 0.2, Left: 0.1, Top: 0.2 }, FaceId: 'f-2', Confidence: 99.9, ImageId: 'i-2', ExternalImageId: 'Jhb' },
            },
          ],
        },
      ],
    });
    // and in AWS's key order (what a byte-level consumer would see)
    expect(JSON.stringify(record)).toMatch(/^\{"InputInformation":\{"KinesisVideo":\{"StreamArn":.*"FragmentNumber":.*"ServerTimestamp":.*"ProducerTimestamp":.*"FrameOffsetInSeconds":.*\}\},"StreamProcessorInformation":\{"Status":"RUNNING"\},"FaceSearchResponse":\[\{"DetectedFace":\{"BoundingBox":\{"Height":/);
  });

  it('gives an empty FaceSearchResponse for a frame without faces, and the consumer decodes it', () => {
    // Given a frame in which DetectFaces found nobody
    const location = { streamArn: STREAM_ARN, fragmentNumber: '1', serverStartMs: 2000, producerStartMs: 1500, offsetMs: 200 };

    // When the record is built and sent through the consumer's decoder
    const record = buildFaceSearchRecord(location, []);
    const decoded = decodeFaceSearchRecord(Buffer.from(JSON.stringify(record)).toString('base64'));

    // Then it says RUNNING with no faces, and decodes as such
    expect(record.StreamProcessorInformation).toEqual({ Status: 'RUNNING' });
    expect(record.FaceSearchResponse).toEqual([]);
    expect(decoded.FaceSearchResponse).toEqual([]);
    expect(decoded.InputInformation.KinesisVideo.FrameOffsetInSeconds).toBe(0.2);
  });

  it('refuses to build a record with a missing field rather than write a hollow one', () => {
    const location = { streamArn: STREAM_ARN, fragmentNumber: '1', serverStartMs: 0, producerStartMs: 0, offsetMs: 0 };
    expect(() => buildFaceSearchRecord(location, [{ detected: { BoundingBox: { Width: 0.1, Height: 0.1, Left: 0, Top: 0 }, Confidence: 99 }, matches: [] }])).toThrow(
      'FaceDetails[0].Pose.Pitch is missing',
    );
  });
});

describe('locateFrame', () => {
  // Two 2-second fragments, the server's clock 300 ms ahead of the camera's; listed in no order.
  const fragments: VideoFragment[] = [
    { fragmentNumber: '102', producerStartMs: 12_000, serverStartMs: 12_300, durationMs: 2000 },
    { fragmentNumber: '101', producerStartMs: 10_000, serverStartMs: 10_300, durationMs: 2000 },
  ];

  it('maps a frame on the server clock to its fragment and its offset in it', () => {
    expect(locateFrame(STREAM_ARN, fragments, 12_800, 'SERVER_TIMESTAMP')).toEqual({
      streamArn: STREAM_ARN,
      fragmentNumber: '102',
      serverStartMs: 12_300,
      producerStartMs: 12_000,
      offsetMs: 500,
    });
    expect(locateFrame(STREAM_ARN, fragments, 11_100, 'SERVER_TIMESTAMP')?.fragmentNumber).toBe('101');
  });

  it('maps a frame on the producer clock the same way', () => {
    expect(locateFrame(STREAM_ARN, fragments, 12_800, 'PRODUCER_TIMESTAMP')).toMatchObject({ fragmentNumber: '102', offsetMs: 800 });
  });

  it('finds no fragment for a frame outside every listed fragment', () => {
    expect(locateFrame(STREAM_ARN, fragments, 20_000, 'SERVER_TIMESTAMP')).toBeUndefined();
    expect(locateFrame(STREAM_ARN, fragments, 9_000, 'PRODUCER_TIMESTAMP')).toBeUndefined();
  });
});

describe('face crops', () => {
  it('pads the face box on each side and clamps it to the frame', () => {
    const region = paddedCropRegion({ Left: 0.05, Top: 0.5, Width: 0.2, Height: 0.4 }, 0.5);
    // left 0.05-0.1 → 0, top 0.5-0.2 = 0.3, right 0.25+0.1 = 0.35, bottom 0.9+0.2 → 1
    expect(region.Left).toBeCloseTo(0, 10);
    expect(region.Top).toBeCloseTo(0.3, 10);
    expect(region.Width).toBeCloseTo(0.35, 10);
    expect(region.Height).toBeCloseTo(0.7, 10);
  });

  it('maps a box found in a crop back to the frame', () => {
    const box = cropBoxToFrame({ Left: 0.2, Top: 0.4, Width: 0.5, Height: 0.25 }, { Left: 0.5, Top: 0.2, Width: 0.4, Height: 0.8 });
    expect(box.Left).toBeCloseTo(0.45, 10);
    expect(box.Top).toBeCloseTo(0.45, 10);
    expect(box.Width).toBeCloseTo(0.2, 10);
    expect(box.Height).toBeCloseTo(0.2, 10);
  });

  it('tells the face a crop was cut for from a neighbour the padding let in', () => {
    const crop = { Left: 0.2, Top: 0.2, Width: 0.4, Height: 0.4 };
    const detected = { Left: 0.3, Top: 0.3, Width: 0.2, Height: 0.2 };
    // the same face, seen by the searcher at the crop's centre
    expect(searchedTheSameFace(crop, { Left: 0.26, Top: 0.24, Width: 0.5, Height: 0.52 }, detected)).toBe(true);
    // a bigger face at the crop's edge
    expect(searchedTheSameFace(crop, { Left: 0.7, Top: 0, Width: 0.3, Height: 0.6 }, detected)).toBe(false);
  });
});

describe('snapshotKey', () => {
  it('is derived from what a sighting of the same face carries, so the consumer can link it', () => {
    // Given a record with two faces
    const face = {
      DetectedFace: {
        BoundingBox: { Height: 0.2, Width: 0.1, Left: 0.1, Top: 0.1 },
        Confidence: 99,
        Landmarks: [],
        Pose: { Pitch: 0, Roll: 0, Yaw: 0 },
        Quality: { Brightness: 50, Sharpness: 50 },
      },
      MatchedFaces: [],
    };
    const record = {
      InputInformation: { KinesisVideo: { StreamArn: STREAM_ARN, FragmentNumber: '913438', ServerTimestamp: 1700000000.5, ProducerTimestamp: 1700000000.1, FrameOffsetInSeconds: 0.4 } },
      StreamProcessorInformation: { Status: 'RUNNING' },
      FaceSearchResponse: [face, face],
    };

    // When the consumer turns it into sightings and the processor names the snapshots
    const sightings = sightingsFromRecord(record, 'front-door', { faceMatchThreshold: 80, retentionDays: 30 });
    const keys = [0, 1].map((faceIndex) =>
      snapshotKey({ camera: 'front-door', streamArn: STREAM_ARN, fragmentNumber: '913438', frameOffsetInSeconds: 0.4, faceIndex }),
    );

    // Then each face's snapshot is snapshots/<camera>/<its sighting id>.jpg
    expect(keys).toEqual(sightings.map((s) => `snapshots/front-door/${s.sightingId}.jpg`));
    expect(new Set(keys).size).toBe(2);
  });
});
