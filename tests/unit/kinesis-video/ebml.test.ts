import {
  ID,
  MkvStreamParser,
  UNKNOWN_SIZE,
  element,
  encodeSize,
  readSize,
  stringElement,
  uintElement,
  unknownSizeHeader,
  withRelativeTimecode,
  type ClusterChild,
} from '../../../local/kinesis-video/ebml';

/** A SimpleBlock for track 1 with a relative timecode and a fake payload. */
function simpleBlock(relative: number, keyframe: boolean, payload = Buffer.from('frame')): Buffer {
  const head = Buffer.alloc(4);
  head[0] = 0x81; // track 1 as a vint
  head.writeInt16BE(relative, 1);
  head[3] = keyframe ? 0x80 : 0;
  return element(ID.SimpleBlock, Buffer.concat([head, payload]));
}

const ebmlHeader = element(ID.EBML, [stringElement(0x4282, 'matroska')]);
const info = element(ID.Info, [uintElement(ID.TimecodeScale, 1_000_000)]);
const tracks = element(ID.Tracks, [
  element(ID.TrackEntry, [
    uintElement(ID.TrackNumber, 1),
    uintElement(ID.TrackType, 1),
    stringElement(ID.CodecID, 'V_MPEG4/ISO/AVC'),
    element(ID.Video, [uintElement(ID.PixelWidth, 640), uintElement(ID.PixelHeight, 480)]),
  ]),
]);

function collect(stream: Buffer, chunkSize: number): { clusters: { timecode?: number; blocks: number[]; keyframes: boolean[] }[]; tracks: number; header: number } {
  const clusters: { timecode?: number; blocks: number[]; keyframes: boolean[] }[] = [];
  let trackCount = 0;
  let headers = 0;
  const parser = new MkvStreamParser({
    header: () => headers++,
    tracks: (_raw, t) => {
      trackCount = t.length;
      expect(t[0]).toMatchObject({ number: 1, type: 1, codecId: 'V_MPEG4/ISO/AVC', width: 640, height: 480 });
    },
    clusterStart: () => clusters.push({ blocks: [], keyframes: [] }),
    clusterChild: (c: ClusterChild) => {
      const cur = clusters[clusters.length - 1];
      if (c.kind === 'timecode') cur.timecode = c.timecode;
      if (c.kind === 'block') {
        cur.blocks.push(c.block.relativeTimecode);
        cur.keyframes.push(c.block.keyframe);
      }
    },
  });
  for (let i = 0; i < stream.length; i += chunkSize) parser.push(stream.subarray(i, i + chunkSize));
  parser.end();
  return { clusters, tracks: trackCount, header: headers };
}

describe('EBML primitives', () => {
  it('round-trips sizes, including the unknown size', () => {
    for (const n of [0, 1, 126, 127, 16382, 16383, 2 ** 21, 2 ** 35 + 7]) {
      const enc = encodeSize(n);
      expect(readSize(enc, 0)).toEqual({ size: n, length: enc.length });
    }
    expect(readSize(encodeSize(UNKNOWN_SIZE), 0)?.size).toBe(UNKNOWN_SIZE);
  });

  it('rewrites the relative timecode of a block', () => {
    // Given a block parsed out of a cluster
    const raw = simpleBlock(5, true);
    let child: ClusterChild | undefined;
    const p = new MkvStreamParser({ clusterChild: (c) => (child = c) });
    p.push(Buffer.concat([unknownSizeHeader(ID.Segment), unknownSizeHeader(ID.Cluster), uintElement(ID.Timecode, 0), raw]));
    expect(child?.kind).toBe('block');
    // When its relative timecode is rewritten to -300
    const rewritten = withRelativeTimecode(child as Extract<ClusterChild, { kind: 'block' }>, -300);
    // Then parsing the rewritten block reads -300
    let again: number | undefined;
    new MkvStreamParser({ clusterChild: (c) => c.kind === 'block' && (again = c.block.relativeTimecode) }).push(
      Buffer.concat([unknownSizeHeader(ID.Segment), unknownSizeHeader(ID.Cluster), rewritten]),
    );
    expect(again).toBe(-300);
  });
});

describe('MkvStreamParser', () => {
  it.each([1, 7, 1000])('splits a live stream of unknown-size clusters fed %i bytes at a time', (chunk) => {
    // Given a live stream: header, tracks, then two unknown-size clusters of 2 and 3 blocks
    const stream = Buffer.concat([
      ebmlHeader,
      unknownSizeHeader(ID.Segment),
      info,
      tracks,
      unknownSizeHeader(ID.Cluster),
      uintElement(ID.Timecode, 0),
      simpleBlock(0, true),
      simpleBlock(40, false),
      unknownSizeHeader(ID.Cluster),
      uintElement(ID.Timecode, 1000),
      simpleBlock(0, true),
      simpleBlock(40, false),
      simpleBlock(80, false),
    ]);
    // When it is fed in chunks
    const out = collect(stream, chunk);
    // Then each cluster comes out with its timecode, blocks and keyframes
    expect(out.header).toBe(1);
    expect(out.tracks).toBe(1);
    expect(out.clusters).toEqual([
      { timecode: 0, blocks: [0, 40], keyframes: [true, false] },
      { timecode: 1000, blocks: [0, 40, 80], keyframes: [true, false, false] },
    ]);
  });

  it('handles known-size clusters, skipped elements and a second EBML header in one stream', () => {
    // Given known-size clusters with Void and Tags elements between them, followed by a second EBML header and segment
    const cluster = (tc: number) => element(ID.Cluster, [uintElement(ID.Timecode, tc), simpleBlock(0, true)]);
    const stream = Buffer.concat([
      ebmlHeader,
      unknownSizeHeader(ID.Segment),
      info,
      tracks,
      element(ID.Void, Buffer.alloc(10)),
      cluster(0),
      element(ID.Tags, Buffer.alloc(3)),
      cluster(2000),
      ebmlHeader,
      unknownSizeHeader(ID.Segment),
      info,
      tracks,
      cluster(0),
    ]);
    // When it is fed 5 bytes at a time
    const out = collect(stream, 5);
    // Then both headers and the three clusters are seen, the other elements skipped
    expect(out.header).toBe(2);
    expect(out.clusters.map((c) => c.timecode)).toEqual([0, 2000, 0]);
  });

  it('rejects garbage instead of looping', () => {
    const p = new MkvStreamParser({});
    expect(() => p.push(Buffer.from([0x00, 0x00, 0x00, 0x00, 0x00]))).toThrow();
  });
});
