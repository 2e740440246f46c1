import { UNKNOWN_PERSON } from '../tables';
import type { Sighting } from './model';

/** What the alert publisher sends: SNS Publish with MessageStructure json (one text per protocol). */
export interface AlertMessage {
  /** Email subject: ASCII, no line breaks, under 100 characters (SNS refuses anything else). */
  subject: string;
  /** JSON object with `default`, `sms`, `email` and machine-readable texts for queue/function/HTTP subscribers. */
  message: string;
  messageStructure: 'json';
  /** String message attributes; `person`, `camera` and `kind` let subscriptions filter. */
  attributes: Record<string, string>;
}

export interface AlertContext {
  /** The person's display name from their profile; the person id when there is no profile. */
  displayName?: string;
  cooldownSeconds: number;
  /** A presigned link to the face's snapshot, when the processor keeps one. */
  snapshotUrl?: string;
  /** How long snapshotUrl works (seconds), told to the reader. */
  snapshotUrlSeconds?: number;
  /** The operator console (CONSOLE_URL, ends with /console/): the email links the sighting's page there. */
  consoleUrl?: string;
}

/**
 * The sighting's page in the console: `<console URL>#/sightings/<sightingId>` (the page's own routes are in the
 * fragment, so the link is the same static page on AWS and locally; signing in is the console's job).
 */
export function sightingPageUrl(consoleUrl: string, sightingId: string): string {
  const base = consoleUrl.endsWith('/') ? consoleUrl : `${consoleUrl}/`;
  return `${base}#/sightings/${encodeURIComponent(sightingId)}`;
}

/** `1 h`, `1 h 30 min`, `15 min`, `45 s`: how long a link lasts, in words a reader takes in at a glance. */
export function linkLifetime(seconds: number): string {
  const h = Math.floor(seconds / 3600);
  const min = Math.floor((seconds % 3600) / 60);
  const s = Math.round(seconds % 60);
  const parts = [h ? `${h} h` : '', min ? `${min} min` : '', !h && !min ? `${s} s` : ''].filter(Boolean);
  return parts.join(' ');
}

const SMS_NAME_MAX = 32;
const SUBJECT_MAX = 99;
const PRINTABLE_ASCII = /^[\x20-\x7e]+$/;

const truncate = (text: string, max: number): string => {
  const chars = Array.from(text);
  return chars.length <= max ? text : `${chars.slice(0, max - 1).join('')}…`;
};
const fixed = (value: number | undefined, digits: number): string => (value === undefined ? '?' : value.toFixed(digits));

/** `2019-10-17 07:41:52 UTC`: short enough for an SMS, unambiguous without a time zone setting. */
const utcSeconds = (iso: string): string => `${iso.slice(0, 10)} ${iso.slice(11, 19)} UTC`;

export function buildAlertMessage(sighting: Sighting, context: AlertContext): AlertMessage {
  const known = sighting.personId !== UNKNOWN_PERSON;
  const name = known ? context.displayName?.trim() || sighting.personId : 'Unknown face';
  const similarity = sighting.similarity === undefined ? '' : ` (${sighting.similarity.toFixed(1)}%)`;

  const sms = `facewatch: ${truncate(name, SMS_NAME_MAX)} at ${sighting.camera}, ${utcSeconds(sighting.seenAt)}${similarity}`;

  // Display names may be any Unicode; the subject falls back to the person id, which is always ASCII.
  const subjectName = PRINTABLE_ASCII.test(name) ? name : sighting.personId;
  const subject = truncate(`facewatch: ${subjectName} seen at ${sighting.camera}`, SUBJECT_MAX);

  const box = sighting.boundingBox;
  const page = context.consoleUrl ? sightingPageUrl(context.consoleUrl, sighting.sightingId) : undefined;
  const lines = [
    known ? `${name} (person id ${sighting.personId}) was seen by camera ${sighting.camera}.` : `A face that matches no registered person was seen by camera ${sighting.camera}.`,
    '',
    `When:          ${sighting.seenAt} (frame time, UTC)`,
    ...(known ? [`Similarity:    ${fixed(sighting.similarity, 2)}%`, `Matched face:  ${sighting.matchedFaceId}`] : []),
    `Face box:      left ${fixed(box.Left, 3)}, top ${fixed(box.Top, 3)}, width ${fixed(box.Width, 3)}, height ${fixed(box.Height, 3)} (fractions of the frame)`,
    ...(sighting.pose ? [`Pose:          pitch ${fixed(sighting.pose.Pitch, 1)}°, roll ${fixed(sighting.pose.Roll, 1)}°, yaw ${fixed(sighting.pose.Yaw, 1)}°`] : []),
    ...(sighting.quality ? [`Quality:       brightness ${fixed(sighting.quality.Brightness, 1)}, sharpness ${fixed(sighting.quality.Sharpness, 1)}`] : []),
    `Sighting id:   ${sighting.sightingId}`,
    `Video:         ${sighting.streamArn}, fragment ${sighting.fragmentNumber}, +${sighting.frameOffsetInSeconds.toFixed(3)} s`,
    // The console's page lasts as long as the sighting and needs a sign-in; the snapshot link works for anyone who has
    // the email, so it stays short-lived (snapshotLinkSeconds) and is there for a glance without signing in.
    ...(page ? [`In the console: ${page}`, `               (sign in to see the sighting, its snapshot and who it is)`] : []),
    ...(context.snapshotUrl ? [`Snapshot:      ${context.snapshotUrl}`, `               (the link works for ${linkLifetime(context.snapshotUrlSeconds ?? 3600)} after the alert was sent)`] : []),
    '',
    `At most one alert per ${known ? 'person and camera' : 'camera for unknown faces'} every ${context.cooldownSeconds} s.`,
  ];

  const machine = JSON.stringify({
    type: 'facewatch.sighting',
    sightingId: sighting.sightingId,
    personId: sighting.personId,
    displayName: known ? name : undefined,
    camera: sighting.camera,
    seenAt: sighting.seenAt,
    similarity: sighting.similarity,
    consoleUrl: page,
  });

  return {
    subject,
    message: JSON.stringify({ default: sms, sms, email: lines.join('\n'), sqs: machine, lambda: machine, http: machine, https: machine }),
    messageStructure: 'json',
    attributes: {
      person: sighting.personId,
      camera: sighting.camera,
      kind: known ? 'known' : 'unknown',
      // Alerts are time-critical: SNS routes Transactional SMS for reliability over cost.
      'AWS.SNS.SMS.SMSType': 'Transactional',
    },
  };
}
