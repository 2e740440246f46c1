import { createHash } from 'node:crypto';
import { UNKNOWN_PERSON } from '../tables';
import type { FaceSearchEntry, FaceSearchRecord, MatchedFace } from './face-search-record';
import type { CameraNames } from './camera';
import type { Sighting } from './model';

export type { Sighting } from './model';

export interface SightingSettings {
  /** Best match at or above this similarity (0–100) is a sighting of that person; below it, an unknown face. */
  faceMatchThreshold: number;
  retentionDays: number;
}

/**
 * Builds `streamName → camera` once from CAMERA_RESOURCES ({"front-door":{"videoStream":"facewatch-dev-front-door",...}}),
 * so each record costs one lookup.
 */
export function cameraResolver(cameras: Readonly<Record<string, Pick<CameraNames, 'videoStream'>>>): (streamArn: string) => string {
  const byStream = new Map<string, string>();
  for (const [camera, names] of Object.entries(cameras)) byStream.set(names.videoStream, camera);
  return (streamArn) => {
    const name = videoStreamName(streamArn);
    // A stream this deployment does not know (renamed, or a processor set up by hand) still gets a usable camera.
    return byStream.get(name) ?? name;
  };
}

/** `arn:aws:kinesisvideo:<region>:<account>:stream/<name>/<creation ms>` → `<name>`; anything else is returned whole. */
export function videoStreamName(streamArn: string): string {
  const start = streamArn.indexOf(':stream/');
  if (start < 0) return streamArn;
  const rest = streamArn.slice(start + ':stream/'.length);
  const end = rest.lastIndexOf('/');
  return end > 0 ? rest.slice(0, end) : rest;
}

/** Deterministic: the same face of the same frame always gets the same id, whichever delivery carries it. */
export function sightingId(streamArn: string, fragmentNumber: string, frameOffsetInSeconds: number, faceIndex: number): string {
  return createHash('sha256').update(`${streamArn}|${fragmentNumber}|${frameOffsetInSeconds}|${faceIndex}`).digest('hex').slice(0, 32);
}

/** The match with the highest similarity, if any (Rekognition does not promise an order). */
export function bestMatch(matches: readonly MatchedFace[]): MatchedFace | undefined {
  let best: MatchedFace | undefined;
  for (const match of matches) if (!best || match.Similarity > best.Similarity) best = match;
  return best;
}

const DAY_SECONDS = 86_400;

/** One sighting per entry of FaceSearchResponse, in order (faceIndex = position in the record). */
export function sightingsFromRecord(record: FaceSearchRecord, camera: string, settings: SightingSettings): Sighting[] {
  const video = record.InputInformation.KinesisVideo;
  const frameTimeMs = Math.round((video.ProducerTimestamp + video.FrameOffsetInSeconds) * 1000);
  const seenAt = new Date(frameTimeMs).toISOString();
  const expiresAt = Math.floor(frameTimeMs / 1000) + settings.retentionDays * DAY_SECONDS;
  return record.FaceSearchResponse.map((entry, faceIndex) => withVisitor(entry, {
    sightingId: sightingId(video.StreamArn, video.FragmentNumber, video.FrameOffsetInSeconds, faceIndex),
    camera,
    seenAt,
    day: seenAt.slice(0, 10),
    serverTimestamp: video.ServerTimestamp,
    producerTimestamp: video.ProducerTimestamp,
    frameOffsetInSeconds: video.FrameOffsetInSeconds,
    fragmentNumber: video.FragmentNumber,
    streamArn: video.StreamArn,
    faceIndex,
    ...identify(entry, settings.faceMatchThreshold),
    boundingBox: entry.DetectedFace.BoundingBox,
    confidence: entry.DetectedFace.Confidence,
    pose: entry.DetectedFace.Pose,
    quality: entry.DetectedFace.Quality,
    expiresAt,
  }));
}

/** An unknown face the processor recognised as a recurring visitor carries the visitor's id (a person never does). */
function withVisitor(entry: FaceSearchEntry, sighting: Sighting): Sighting {
  return entry.Visitor && sighting.personId === UNKNOWN_PERSON ? { ...sighting, visitorId: entry.Visitor.VisitorId } : sighting;
}

function identify(entry: FaceSearchEntry, threshold: number): Pick<Sighting, 'personId' | 'similarity' | 'matchedFaceId' | 'externalImageId'> {
  const match = bestMatch(entry.MatchedFaces);
  // A face matched without an ExternalImageId was not registered through this service: nobody to name.
  if (!match || match.Similarity < threshold || !match.Face.ExternalImageId) return { personId: UNKNOWN_PERSON };
  return {
    personId: match.Face.ExternalImageId,
    similarity: match.Similarity,
    matchedFaceId: match.Face.FaceId,
    externalImageId: match.Face.ExternalImageId,
  };
}

/** Epoch ms of the frame a sighting was seen in. */
export const frameTimeMs = (sighting: Pick<Sighting, 'seenAt'>): number => Date.parse(sighting.seenAt);
