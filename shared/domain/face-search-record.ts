import { z } from 'zod';
import { PermanentInputError } from '../errors';
import { VISITOR_ID_PATTERN } from './visitor';

/**
 * The record a Rekognition face-search stream processor writes to its Kinesis data stream, one per analysed
 * frame (see docs/face-search-record.md). Field names and nesting follow Rekognition's own record; extra
 * fields (a newer API, another processor) are tolerated and dropped. Fields the SDK marks optional but that
 * a sighting cannot do without (stream, fragment, timestamps, the detected face's box) are required.
 */

const finite = z.number();

const BoundingBoxSchema = z.object({ Width: finite, Height: finite, Left: finite, Top: finite });

const LandmarkSchema = z.object({ Type: z.string().optional(), X: finite.optional(), Y: finite.optional() });

const PoseSchema = z.object({ Pitch: finite.optional(), Roll: finite.optional(), Yaw: finite.optional() });

const QualitySchema = z.object({ Brightness: finite.optional(), Sharpness: finite.optional() });

const DetectedFaceSchema = z.object({
  BoundingBox: BoundingBoxSchema,
  Confidence: finite.optional(),
  Landmarks: z.array(LandmarkSchema).optional(),
  Pose: PoseSchema.optional(),
  Quality: QualitySchema.optional(),
});

const MatchedFaceSchema = z.object({
  Similarity: finite,
  Face: z.object({
    FaceId: z.string(),
    BoundingBox: BoundingBoxSchema.optional(),
    Confidence: finite.optional(),
    ImageId: z.string().optional(),
    // Absent for faces indexed without an external id (not by this service's indexer).
    ExternalImageId: z.string().optional(),
  }),
});

/**
 * facewatch's own field on an unknown face's entry (the self processor with visitors on; shared/domain/visitor.ts).
 * Optional, and never a reason to refuse a record: a malformed one is dropped, the face stays a sighting.
 */
const VisitorSchema = z
  .object({
    VisitorId: z.string().regex(VISITOR_ID_PATTERN),
    VisitStart: z.boolean().optional(),
    FaceId: z.string().min(1).optional(),
    Similarity: finite.optional(),
  })
  .optional()
  .catch(undefined);

export const FaceSearchRecordSchema = z.object({
  InputInformation: z.object({
    KinesisVideo: z.object({
      StreamArn: z.string().min(1),
      // A decimal string too long for a JS number: a number here would already have lost digits.
      FragmentNumber: z.string().regex(/^\d+$/, 'expected a string of decimal digits'),
      ServerTimestamp: finite,
      ProducerTimestamp: finite,
      FrameOffsetInSeconds: finite,
    }),
  }),
  StreamProcessorInformation: z.object({ Status: z.string() }).optional(),
  FaceSearchResponse: z.array(
    z.object({
      DetectedFace: DetectedFaceSchema,
      // An empty list is an unknown face.
      MatchedFaces: z.array(MatchedFaceSchema),
      Visitor: VisitorSchema,
    }),
  ),
});

export type FaceSearchRecord = z.infer<typeof FaceSearchRecordSchema>;
export type FaceSearchEntry = FaceSearchRecord['FaceSearchResponse'][number];
export type MatchedFace = FaceSearchEntry['MatchedFaces'][number];

// Compiled once at cold start: the generated parser keeps the hot path near JSON.parse's cost (bench/consumer.ts).
const compiledSchema = z.compile(FaceSearchRecordSchema);

/** Standard base64 with padding, as Lambda delivers Kinesis data; anything else is not what a producer wrote. */
function decodeBase64(data: string): Buffer {
  if (data.length % 4 !== 0) throw new PermanentInputError(`data is not base64: length ${data.length} is not a multiple of 4`);
  const bytes = Buffer.from(data, 'base64');
  // Node skips characters outside the alphabet instead of failing: a short result means some were there.
  const padding = data.endsWith('==') ? 2 : data.endsWith('=') ? 1 : 0;
  if (bytes.length !== (data.length / 4) * 3 - padding) throw new PermanentInputError('data is not base64: it holds characters outside the base64 alphabet');
  return bytes;
}

const MAX_ISSUES = 3;

function describeIssues(error: z.ZodError): string {
  const issues = error.issues.slice(0, MAX_ISSUES).map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`);
  const more = error.issues.length > MAX_ISSUES ? ` (and ${error.issues.length - MAX_ISSUES} more)` : '';
  return `not a face-search record: ${issues.join('; ')}${more}`;
}

/** Validates an already parsed JSON value; throws PermanentInputError saying which fields are wrong. */
export function parseFaceSearchRecord(value: unknown): FaceSearchRecord {
  const result = compiledSchema.safeParse(value);
  if (!result.success) throw new PermanentInputError(describeIssues(result.error));
  return result.data;
}

/**
 * Kinesis record data (base64, as in the Lambda event) → FaceSearchRecord.
 * Throws PermanentInputError (never anything else) when the data can never become a record: not base64,
 * not JSON, or not the schema. The message says which.
 */
export function decodeFaceSearchRecord(data: string): FaceSearchRecord {
  if (typeof data !== 'string') throw new PermanentInputError('data is missing: expected a base64 string');
  const bytes = decodeBase64(data);
  let json: unknown;
  try {
    json = JSON.parse(bytes.toString('utf8'));
  } catch (error) {
    throw new PermanentInputError(`data is not JSON: ${(error as Error).message}`);
  }
  return parseFaceSearchRecord(json);
}
