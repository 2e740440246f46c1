/**
 * Recurring unknown visitors (docs/visitors.md): a face that matches no registered person is searched in a second
 * collection, of unknown faces; a match there is the same visitor, otherwise the face starts a new one. Pure
 * rules and values shared by the processor (which identifies visitors), the consumer (which records them) and the
 * API (which lists, names and erases them).
 */
import type { BoundingBox, Pose } from './model';

/** `v-` and 16 hex digits: the ExternalImageId of the visitor's faces in the visitors collection. */
export const VISITOR_ID_PATTERN = /^v-[0-9a-f]{16}$/;

export const isVisitorId = (value: string): boolean => VISITOR_ID_PATTERN.test(value);

/**
 * A new visitor's id, from the sighting id of the face that started it (stream, fragment, frame offset, face index:
 * shared/domain/sighting.ts): a retried window that starts the same visitor again gives it the same id.
 */
export function newVisitorId(firstSightingId: string): string {
  const hex = firstSightingId.toLowerCase().replace(/[^0-9a-f]/g, '').slice(0, 16).padEnd(16, '0');
  return `v-${hex}`;
}

/**
 * What the self processor adds to a face-search entry of an unknown face (`Visitor`, next to `MatchedFaces`):
 * facewatch's own field, not Rekognition's. Absent from the managed processor's records (which know no visitors)
 * and from known faces'.
 */
export interface RecordVisitor {
  VisitorId: string;
  /** The first frame of a visit (a face that came into view, or came back after the visit gap): counted once. */
  VisitStart?: boolean;
  /** The visitor's face this frame was matched with, or the face it indexed (a new visitor). Frames of a visit start only. */
  FaceId?: string;
  /** Similarity with that face; absent for a new visitor (its face was indexed from this frame). */
  Similarity?: number;
}

/**
 * A visitor absent from a camera's view for longer than this (video time) starts a new visit when they come back;
 * a shorter absence (they turned away, the detector missed a few frames) continues the visit.
 */
export const DEFAULT_VISIT_GAP_SECONDS = 60;

/**
 * How good a face snapshot is to name a visitor with: the face's area (a fraction of the frame, so a closer face is
 * better) times how frontal it is (cos of yaw and pitch: a profile makes a poor registration photo).
 */
export function snapshotScore(box: BoundingBox, pose?: Pose): number {
  const frontal = Math.max(0, Math.cos(((pose?.Yaw ?? 0) * Math.PI) / 180)) * Math.max(0, Math.cos(((pose?.Pitch ?? 0) * Math.PI) / 180));
  const score = Math.max(0, box.Width) * Math.max(0, box.Height) * frontal;
  // Six decimals keep the item small (and the comparison stable across JSON round trips).
  return Math.round(score * 1e6) / 1e6;
}

/** Visitors table item (key visitorId; shared/tables.json). Kept by the consumer, read and removed by the API. */
export interface VisitorRecord {
  visitorId: string;
  /** Visits counted: each time the visitor came into a camera's view after the visit gap. */
  visits: number;
  firstSeenAt: string;
  lastSeenAt: string;
  lastSeenCamera: string;
  /** The face(s) of the visitor in the visitors collection. */
  faceIds: string[];
  /** snapshots/<camera>/<sightingId>.jpg of the best face seen (snapshotScore), when the processor keeps snapshots. */
  bestSnapshotKey?: string;
  bestScore?: number;
}

/** The photo a named visitor's best snapshot becomes, in the person's folder (so the S3 event indexes it). */
export const visitorPhotoName = (visitorId: string): string => `visitor-${visitorId}.jpg`;
