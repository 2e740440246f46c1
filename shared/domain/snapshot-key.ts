import { sightingId } from './sighting';

/**
 * S3 key of the JPEG snapshot the self-managed processor keeps of one face of one analysed frame.
 * The record stays exactly the managed processor's shape (no extra field), so the key is derived from what
 * both sides already have: the camera and the sighting id inputs (stream ARN, fragment number, frame offset
 * as written in the record, and the face's position in FaceSearchResponse). The consumer computes the same
 * key for a sighting and links it; the faces bucket expires `snapshots/` with the sightings' retention.
 */
export const SNAPSHOT_PREFIX = 'snapshots/';

export interface SnapshotKeyInputs {
  camera: string;
  streamArn: string;
  fragmentNumber: string;
  /** The record's FrameOffsetInSeconds, exactly as written (it is part of the hash). */
  frameOffsetInSeconds: number;
  faceIndex: number;
}

export function snapshotKey({ camera, streamArn, fragmentNumber, frameOffsetInSeconds, faceIndex }: SnapshotKeyInputs): string {
  return snapshotKeyOf(camera, sightingId(streamArn, fragmentNumber, frameOffsetInSeconds, faceIndex));
}

/** The same key from a sighting's own id (the consumer has it already: no second hash). */
export const snapshotKeyOf = (camera: string, id: string): string => `${SNAPSHOT_PREFIX}${camera}/${id}.jpg`;

/**
 * Which frames keep a snapshot of every face: about one a second (the frames in the first sampling interval of
 * each second of the record's frame time, ProducerTimestamp + FrameOffsetInSeconds as the sighting's seenAt), not
 * all five: a PUT per face per frame was the largest cost of a camera once Rekognition is paid only to identify.
 * The processor also keeps the snapshot of every face it searches (the first frame of a visit: the one that
 * alerts). Both sides compute this from the record, so a sighting links a snapshot only where one exists.
 */
export function keepsSnapshot(frameTimeMs: number, samplingIntervalMs: number): boolean {
  if (samplingIntervalMs >= 1000) return true;
  return ((Math.round(frameTimeMs) % 1000) + 1000) % 1000 < samplingIntervalMs;
}
