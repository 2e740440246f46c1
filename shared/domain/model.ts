/**
 * The items each table holds, as the code reads and writes them (DynamoDB keys aside: see shared/tables.ts).
 * Several functions share these shapes: the indexer and the API own the people table, the consumer writes
 * sightings and alert state, the API reads and erases them.
 */
import type { Rejection } from './photo-rejection';

export interface BoundingBox {
  Width: number;
  Height: number;
  Left: number;
  Top: number;
}

export interface FaceQuality {
  Brightness?: number;
  Sharpness?: number;
}

export interface Pose {
  Pitch?: number;
  Roll?: number;
  Yaw?: number;
}

/** Alert rules of one person, set with PATCH /people/{personId}. */
export interface AlertRules {
  /** No alerts for this person at all (sightings are still kept). */
  muted: boolean;
  /** On the watchlist: when alerts are restricted to the watchlist, only these people alert. */
  watchlist: boolean;
}

/** The rules of a person nobody has set any for: alerts on, not on the watchlist. */
export const DEFAULT_RULES: Readonly<AlertRules> = Object.freeze({ muted: false, watchlist: false });

/** People table, sk PROFILE. `personId` is the ExternalImageId of the person's faces. */
export interface PersonProfile {
  personId: string;
  /** The person folder's name as uploaded (any Unicode), shown to users. */
  displayName: string;
  rules: AlertRules;
  createdAt: string;
  updatedAt: string;
  /** ISO time of the latest sighting, kept by the consumer. */
  lastSeenAt?: string;
  lastSeenCamera?: string;
}

/** One face Rekognition indexed from a photo. */
export interface IndexedFace {
  faceId: string;
  imageId: string;
  boundingBox: BoundingBox;
  confidence: number;
  quality: FaceQuality;
  pose?: Pose;
}

/** People table, sk PHOTO#<s3 key>: one uploaded photo and what became of it. */
export interface PhotoRecord {
  personId: string;
  photoKey: string;
  etag?: string;
  versionId?: string;
  /** S3 event sequencer of the upload this record reflects: orders events for one key (late events are ignored). */
  sequencer?: string;
  status: 'indexed' | 'rejected';
  faces: IndexedFace[];
  /** Why a rejected photo was refused, worded for the person who uploaded it. */
  rejection?: { reason: string; message: string };
  indexedAt: string;
}

/** People table, pk UNFILED: a photo under faces/ that belongs to no person (faces/x.jpg, faces/a/b/c.jpg), kept so the API can show it. */
export interface UnfiledPhoto {
  photoKey: string;
  etag?: string;
  sequencer?: string;
  rejection: Rejection;
  recordedAt: string;
}

/** Sightings table item. */
export interface Sighting {
  /** Deterministic: stream, fragment, frame offset and face index (a redelivered record writes nothing new). */
  sightingId: string;
  /** The matched person's id, or UNKNOWN (shared/tables.ts) for a face that matched nobody. */
  personId: string;
  camera: string;
  /** ISO time of the frame (ProducerTimestamp + FrameOffsetInSeconds). Sort key of every index. */
  seenAt: string;
  /** UTC day of seenAt, YYYY-MM-DD: partition of the byDay index (all sightings, newest first). */
  day: string;
  serverTimestamp: number;
  producerTimestamp: number;
  frameOffsetInSeconds: number;
  fragmentNumber: string;
  streamArn: string;
  faceIndex: number;
  similarity?: number;
  matchedFaceId?: string;
  externalImageId?: string;
  boundingBox: BoundingBox;
  confidence?: number;
  pose?: Pose;
  quality?: FaceQuality;
  /** S3 key of a JPEG snapshot of the face, when the processor keeps one. */
  snapshotKey?: string;
  /** An operator corrected the match ("not this person", or "this is …" over another match): the person it had before. */
  correctedFrom?: string;
  /** An operator said who this is ("this is …" in the console); personId is theirs since. */
  identified?: boolean;
  /** ISO time of the operator's last correction. */
  correctedAt?: string;
  /** An unknown face's recurring visitor (`v-…`, docs/visitors.md): partition of the byVisitor index. */
  visitorId?: string;
  /** Epoch seconds when DynamoDB's TTL removes the item. */
  expiresAt: number;
}

/** Alert-state table item, key `<personId>#<camera>` (alertStateKey). */
export interface AlertState {
  alertKey: string;
  personId: string;
  camera: string;
  /** Frame time (epoch ms) of the sighting that last alerted. */
  lastAlertAt: number;
  sightingId: string;
  expiresAt: number;
  /**
   * pending: claimed, not published yet (a retry of the same sighting publishes); sending: a Publish was
   * started and its outcome is unknown (the process died during it: a retry does NOT publish, so an alert is
   * never sent twice; see docs/reliability.md); sent: published.
   */
  status?: 'pending' | 'sending' | 'sent';
  /** SNS MessageId of the published alert. */
  messageId?: string;
}

export const alertStateKey = (personId: string, camera: string) => `${personId}#${camera}`;
