import { z } from 'zod';

/**
 * The environment, parsed once per cold start. Each function names the part it needs, so a missing or
 * malformed variable fails at cold start with a message naming it, and no function reads what it
 * does not use.
 */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

const nonEmpty = z.string().trim().min(1);
const seconds = z.coerce.number().int().positive();
/** A yes/no variable: true, 1 or yes; false, 0, no or empty. */
export const envBool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no', ''])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

export const env = {
  peopleTable: { PEOPLE_TABLE: nonEmpty },
  sightingsTable: { SIGHTINGS_TABLE: nonEmpty },
  alertStateTable: { ALERT_STATE_TABLE: nonEmpty },
  facesBucket: { FACES_BUCKET: nonEmpty },
  collection: { COLLECTION_ID: nonEmpty },
  /** Recurring unknown visitors (docs/visitors.md): their table and their collection of unknown faces. */
  visitorsTable: { VISITORS_TABLE: nonEmpty },
  visitorCollection: { VISITOR_COLLECTION_ID: nonEmpty },
  /** Functions that cover visitors when the deployment has them (the consumer, person erasure): both or neither. */
  optionalVisitors: { VISITORS_TABLE: nonEmpty.optional(), VISITOR_COLLECTION_ID: nonEmpty.optional() },
  /** A visitor out of view longer than this starts a new visit when back (the processor and the consumer). */
  visitGap: { VISIT_GAP_SECONDS: z.coerce.number().int().min(0).max(86_400).default(60) },
  alertTopic: { ALERT_TOPIC_ARN: nonEmpty },
  faceMatchThreshold: { FACE_MATCH_THRESHOLD: z.coerce.number().min(0).max(100).default(85.5) },
  alerts: {
    ALERT_COOLDOWN_SECONDS: seconds.default(60),
    UNKNOWN_ALERTS: envBool.default(false),
    UNKNOWN_ALERT_COOLDOWN_SECONDS: seconds.default(60),
    ALERT_WATCHLIST_ONLY: envBool.default(false),
  },
  retention: { SIGHTING_RETENTION_DAYS: seconds.default(30) },
  /** Per-camera resource names, from `${file(resources/cameras.js):environment}`. */
  cameraResources: {
    CAMERA_RESOURCES: z
      .string()
      .transform((text, ctx) => {
        try {
          return JSON.parse(text) as unknown;
        } catch {
          ctx.addIssue({ code: 'custom', message: 'expected JSON like {"front-door":{"videoStream":"…","dataStream":"…","processor":"…"}}' });
          return z.NEVER;
        }
      })
      .pipe(
        z
          .record(z.string().min(1), z.object({ videoStream: nonEmpty, dataStream: nonEmpty, processor: nonEmpty }))
          .refine((cameras) => Object.keys(cameras).length > 0, 'names no camera'),
      ),
  },
  /** How the cameras' processors run (serverless.yml param processorMode). */
  processorMode: { PROCESSOR_MODE: z.enum(['managed', 'self']) },
  /** The self processor's state table and worker, for the functions that start, stop and describe it. */
  selfProcessor: { PROCESSOR_STATE_TABLE: nonEmpty, PROCESS_VIDEO_FUNCTION: nonEmpty },
  /** Shown by describe before the first worker run stored its own settings. */
  processorSettings: { COLLECTION_ID: nonEmpty.optional(), FACE_MATCH_THRESHOLD: z.coerce.number().optional() },
  /** Functions that link snapshots (consumer, GET /sightings): links only when the processor keeps snapshots and a bucket is named. */
  snapshotLinks: {
    /** True when the processor keeps snapshots (self mode, set by serverless.yml); the managed processor keeps none. */
    PROCESSOR_SNAPSHOTS: envBool.default(false),
    FACES_BUCKET: nonEmpty.optional(),
    /** The processor's sampling rate: which frames keep snapshots of every face (shared/domain/snapshot-key.ts). */
    PROCESSOR_SAMPLING_FPS: z.coerce.number().positive().default(5),
    /** Lifetime of a presigned snapshot link (serverless.yml param snapshotLinkSeconds); SigV4 allows at most 7 days. */
    SNAPSHOT_LINK_SECONDS: seconds.max(604_800).default(3600),
  },
  /** The operator console's URL (ends with /console/), linked from email alerts; none: no link. */
  console: { CONSOLE_URL: z.url({ protocol: /^https?$/ }).optional() },
} as const;

type Shape = z.ZodRawShape;

/** Parses `process.env` (or `source`) against the merged shapes; throws ConfigError naming every bad variable. */
export function loadConfig<S extends Shape>(shape: S, source: NodeJS.ProcessEnv = process.env): z.infer<z.ZodObject<S>> {
  const result = z.object(shape).safeParse(source);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => {
      const name = issue.path.join('.');
      return source[name] === undefined ? `${name} is not set` : `${name} is invalid: ${issue.message}`;
    });
    throw new ConfigError(`Bad environment: ${problems.join('; ')}`);
  }
  return result.data;
}
