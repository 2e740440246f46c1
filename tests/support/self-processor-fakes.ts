/**
 * Fakes of the self-managed processor's ports. A fake "image" is JSON naming its faces (boxes as ratios of
 * that image, and who each face is), so the fakes can behave like the real services: the cropper cuts faces
 * out, and SearchFacesByImage searches only the LARGEST face of the image it is given, as Rekognition does.
 */
import type { DetectedFaceInput, VideoFragment } from '../../shared/domain/frame-analysis';
import type { BoundingBox } from '../../shared/domain/model';
import type { Clock, FaceAnalyzer, FaceCrop, FaceCropper, FaceSearchResult, FrameSource, OutgoingRecord, ProgressPort, RecordSink, SampledFrame, SearchOptions, SliceProgress, SnapshotStore, FrameThumbnail, VisitorFaces } from '../../shared/use-cases/processor-ports';
import { THUMBNAIL_HEIGHT, THUMBNAIL_WIDTH } from '../../shared/use-cases/processor-ports';

export interface FakeFace {
  box: BoundingBox;
  /** Who it is (ExternalImageId of the matching face), or null for a stranger. */
  person: string | null;
  /** A stranger's own identity (who the visitors collection recognises): two faces of one stranger share it. */
  stranger?: string;
}

export const encodeImage = (faces: FakeFace[]): Uint8Array => Buffer.from(JSON.stringify({ faces }));
export const decodeImage = (image: Uint8Array): { faces: FakeFace[] } => JSON.parse(Buffer.from(image).toString('utf8'));

export class VirtualClock implements Clock {
  constructor(public ms: number) {}
  now = () => this.ms;
  sleep = async (ms: number) => {
    this.ms += Math.max(ms, 1);
  };
}

/**
 * A camera stream: fragments of `fragmentMs` starting at producerStartMs, server clock `serverSkewMs` ahead
 * of the producer's, video at `videoFps`. Video up to `liveUntil()` (producer clock) is available.
 */
export class FakeFrameSource implements FrameSource {
  readonly domain = 'SERVER_TIMESTAMP' as const;
  readonly getFramesCalls: { fromMs: number; toMs: number; intervalMs: number }[] = [];
  constructor(
    private readonly opts: {
      arn: string;
      producerStartMs: number;
      fragmentMs: number;
      serverSkewMs: number;
      videoFps: number;
      liveUntil: () => number;
      facesAt: (producerMs: number) => FakeFace[];
    },
  ) {}

  async streamArn() {
    return this.opts.arn;
  }

  fragmentNumber(index: number): string {
    return (91343852333181506862203065875037152061796366840n + BigInt(index)).toString();
  }

  allFragments(): VideoFragment[] {
    const out: VideoFragment[] = [];
    const end = this.opts.liveUntil();
    for (let i = 0, start = this.opts.producerStartMs; start < end; i++, start += this.opts.fragmentMs) {
      out.push({
        fragmentNumber: this.fragmentNumber(i),
        producerStartMs: start,
        serverStartMs: start + this.opts.serverSkewMs,
        durationMs: Math.min(this.opts.fragmentMs, end - start),
      });
    }
    return out;
  }

  async listFragments(fromMs: number, toMs: number): Promise<VideoFragment[]> {
    // Reversed: ListFragments promises no order.
    return this.allFragments()
      .filter((f) => f.serverStartMs <= toMs && f.serverStartMs + f.durationMs >= fromMs)
      .reverse();
  }

  async getFrames(fromMs: number, toMs: number, intervalMs: number): Promise<SampledFrame[]> {
    this.getFramesCalls.push({ fromMs, toMs, intervalMs });
    const frameMs = 1000 / this.opts.videoFps;
    const out: SampledFrame[] = [];
    for (let t = fromMs; t <= toMs; t += intervalMs) {
      const producer = t - this.opts.serverSkewMs;
      if (producer < this.opts.producerStartMs || producer >= this.opts.liveUntil()) {
        out.push({ timestampMs: t, error: 'NO_MEDIA' });
        continue;
      }
      // The frame shown at t: the last one at or before it (GetImages reports that frame's time).
      const shown = this.opts.producerStartMs + Math.floor((producer - this.opts.producerStartMs) / frameMs) * frameMs;
      out.push({ timestampMs: shown + this.opts.serverSkewMs, image: encodeImage(this.opts.facesAt(shown)) });
    }
    return out;
  }
}

const area = (b: BoundingBox) => b.Width * b.Height;

export class FakeAnalyzer implements FaceAnalyzer {
  readonly detectCalls: number[] = [];
  readonly searches: { faces: FakeFace[]; options: SearchOptions }[] = [];
  failDetectWith?: Error;

  async detectFaces(image: Uint8Array): Promise<DetectedFaceInput[]> {
    if (this.failDetectWith) throw this.failDetectWith;
    const { faces } = decodeImage(image);
    this.detectCalls.push(faces.length);
    return faces.map((f) => ({
      BoundingBox: f.box,
      Confidence: 99.9,
      Landmarks: [
        { Type: 'eyeLeft', X: f.box.Left + 0.3 * f.box.Width, Y: f.box.Top + 0.4 * f.box.Height },
        { Type: 'eyeRight', X: f.box.Left + 0.7 * f.box.Width, Y: f.box.Top + 0.4 * f.box.Height },
        { Type: 'mouthLeft', X: f.box.Left + 0.35 * f.box.Width, Y: f.box.Top + 0.8 * f.box.Height },
        { Type: 'mouthRight', X: f.box.Left + 0.65 * f.box.Width, Y: f.box.Top + 0.8 * f.box.Height },
        { Type: 'nose', X: f.box.Left + 0.5 * f.box.Width, Y: f.box.Top + 0.6 * f.box.Height },
      ],
      Pose: { Pitch: 1.5, Roll: -2.25, Yaw: 3 },
      Quality: { Brightness: 70.5, Sharpness: 60.25 },
    }));
  }

  async searchFacesByImage(image: Uint8Array, options: SearchOptions): Promise<FaceSearchResult | null> {
    const { faces } = decodeImage(image);
    this.searches.push({ faces, options });
    if (!faces.length) return null;
    const largest = faces.reduce((a, b) => (area(b.box) > area(a.box) ? b : a));
    const matches = largest.person
      ? [
          {
            Similarity: 99.1,
            Face: { FaceId: `face-${largest.person}`, BoundingBox: { Width: 0.5, Height: 0.6, Left: 0.2, Top: 0.1 }, ImageId: `image-${largest.person}`, ExternalImageId: largest.person, Confidence: 99.99 },
          },
        ]
      : [];
    return { searchedFace: largest.box, matches };
  }
}

/** Cuts the region out: faces whose centre lies in it, boxes re-expressed as ratios of the crop. */
export class FakeCropper implements FaceCropper {
  readonly regions: BoundingBox[] = [];

  /** Who is in the region decides how it looks: each person has their own signature, nobody a flat one. */
  async signature(frame: Uint8Array, region: BoundingBox): Promise<number[]> {
    const who = decodeImage(frame).faces.find((f) => {
      const cx = f.box.Left + f.box.Width / 2;
      const cy = f.box.Top + f.box.Height / 2;
      return cx >= region.Left && cx <= region.Left + region.Width && cy >= region.Top && cy <= region.Top + region.Height;
    });
    const seed = [...(who?.person ?? who?.stranger ?? 'stranger')].reduce((h, c) => (h * 31 + c.charCodeAt(0)) % 9973, 7);
    return Array.from({ length: 16 }, (_, i) => (((seed * (i + 3)) % 17) - 8) / 4);
  }
  async crop(frame: Uint8Array, region: BoundingBox): Promise<FaceCrop> {
    this.regions.push(region);
    const inside = decodeImage(frame).faces.filter((f) => {
      const cx = f.box.Left + f.box.Width / 2;
      const cy = f.box.Top + f.box.Height / 2;
      return cx >= region.Left && cx <= region.Left + region.Width && cy >= region.Top && cy <= region.Top + region.Height;
    });
    const rebased = inside.map((f) => ({
      ...f,
      box: {
        Left: (f.box.Left - region.Left) / region.Width,
        Top: (f.box.Top - region.Top) / region.Height,
        Width: f.box.Width / region.Width,
        Height: f.box.Height / region.Height,
      },
    }));
    return { image: encodeImage(rebased), region };
  }
}

export class CollectingSink implements RecordSink {
  readonly records: OutgoingRecord[] = [];
  failures = 0;
  async put(records: readonly OutgoingRecord[]): Promise<void> {
    if (this.failures > 0) {
      this.failures -= 1;
      throw Object.assign(new Error('throttled'), { name: 'ProvisionedThroughputExceededException' });
    }
    this.records.push(...records);
  }
}

export class CollectingSnapshots implements SnapshotStore {
  readonly keys: string[] = [];
  async put(key: string): Promise<void> {
    this.keys.push(key);
  }
}

/** Allows writing until `stopAfterCheckpoints` checkpoints were taken (then answers false: processor stopped). */
export class ScriptedProgress implements ProgressPort {
  readonly checkpoints: SliceProgress[] = [];
  renewals = 0;
  constructor(private readonly stopAfterCheckpoints = Infinity) {}
  async renew(): Promise<boolean> {
    this.renewals += 1;
    return this.checkpoints.length < this.stopAfterCheckpoints;
  }
  async checkpoint(progress: SliceProgress): Promise<boolean> {
    if (this.checkpoints.length >= this.stopAfterCheckpoints) return false;
    this.checkpoints.push(progress);
    return true;
  }
}

/**
 * A cropper that also draws each fake frame's thumbnail (for the motion gate): background grey 60 plus `light`,
 * each face's box filled with 200. Frames are FRAME_WIDTH pixels wide.
 */
export class FakeThumbnailCropper extends FakeCropper {
  static readonly FRAME_WIDTH = 640;
  thumbnails = 0;
  constructor(private readonly light: (frame: { faces: FakeFace[] }) => number = () => 0) {
    super();
  }

  async thumbnail(frame: Uint8Array): Promise<FrameThumbnail> {
    this.thumbnails += 1;
    const decoded = decodeImage(frame);
    const grey = new Uint8Array(THUMBNAIL_WIDTH * THUMBNAIL_HEIGHT).fill(60 + this.light(decoded));
    for (const { box } of decoded.faces) {
      for (let y = Math.floor(box.Top * THUMBNAIL_HEIGHT); y < Math.ceil((box.Top + box.Height) * THUMBNAIL_HEIGHT); y++) {
        for (let x = Math.floor(box.Left * THUMBNAIL_WIDTH); x < Math.ceil((box.Left + box.Width) * THUMBNAIL_WIDTH); x++) grey[y * THUMBNAIL_WIDTH + x] = 200;
      }
    }
    return { width: FakeThumbnailCropper.FRAME_WIDTH, height: 480, grey };
  }
}

/**
 * The visitors collection: remembers the strangers indexed into it (by their `stranger` identity) and recognises
 * them again, searching only the largest face of the image as Rekognition does.
 */
export class FakeVisitorFaces implements VisitorFaces {
  readonly faces = new Map<string, { visitorId: string; stranger: string }>();
  readonly searches: { faces: FakeFace[]; options: { collectionId: string; faceMatchThreshold: number } }[] = [];
  readonly indexed: { visitorId: string; collectionId: string }[] = [];
  failWith?: Error;
  /** IndexFaces refuses (quality) while this is set. */
  refuseIndex = false;

  async search(image: Uint8Array, options: { collectionId: string; faceMatchThreshold: number }) {
    if (this.failWith) throw this.failWith;
    const { faces } = decodeImage(image);
    this.searches.push({ faces, options });
    if (!faces.length) return null;
    const largest = faces.reduce((a, b) => (area(b.box) > area(a.box) ? b : a));
    for (const [faceId, face] of this.faces) if (face.stranger === (largest.stranger ?? 'anonymous')) return { visitorId: face.visitorId, faceId, similarity: 97.25 };
    return undefined;
  }

  async index(image: Uint8Array, options: { collectionId: string; visitorId: string }) {
    if (this.refuseIndex) return undefined;
    const { faces } = decodeImage(image);
    const largest = faces.reduce((a, b) => (area(b.box) > area(a.box) ? b : a));
    const faceId = `visitor-face-${this.faces.size + 1}`;
    this.faces.set(faceId, { visitorId: options.visitorId, stranger: largest.stranger ?? 'anonymous' });
    this.indexed.push(options);
    return { faceId };
  }
}
