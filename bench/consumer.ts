/**
 * Decoding + deciding (no I/O) a batch of realistic face-search records, against Buffer.from(b64, 'base64')
 * + JSON.parse alone on the same records, side by side in one run. Target: ratio ≤ 2.
 * Run: npm run bench:consumer   (last line: ratio=<x> records_per_s=<n>)
 */
import { buildAlertMessage } from '../shared/domain/alert-message';
import { decideAlert, evaluateClaim, type AlertSettings } from '../shared/domain/alert-policy';
import { decodeFaceSearchRecord } from '../shared/domain/face-search-record';
import { alertStateKey, type AlertRules, type AlertState } from '../shared/domain/model';
import { cameraResolver, frameTimeMs, sightingsFromRecord } from '../shared/domain/sighting';
import { realisticRecords, toBase64 } from '../tests/fixtures/face-search-records';

const BATCH = 100;
const BATCHES = 50;
const ROUNDS = 15;

const streamArn = 'arn:aws:kinesisvideo:us-east-1:123456789012:stream/facewatch-dev-front-door/1700000000000';
const batches = Array.from({ length: BATCHES }, (_, b) =>
  realisticRecords(BATCH, { streamArn, start: 1_700_000_000 + b * 1000 }).map((record) => toBase64(record)),
);
const cameraOf = cameraResolver({ 'front-door': { videoStream: 'facewatch-dev-front-door' } });
const rules = new Map<string, AlertRules>([
  ['alice', { muted: false, watchlist: true }],
  ['bob', { muted: true, watchlist: false }],
]);
const settings: AlertSettings = { cooldownSeconds: 60, unknownAlerts: true, unknownCooldownSeconds: 60, watchlistOnly: false };

let sink = 0;

function baseline(batch: string[]): void {
  for (const data of batch) sink += JSON.parse(Buffer.from(data, 'base64').toString('utf8')).FaceSearchResponse.length;
}

function decodeAndDecide(batch: string[]): void {
  // The alert-state table, in memory: the decision path without the I/O.
  const states = new Map<string, Pick<AlertState, 'sightingId' | 'lastAlertAt' | 'status'>>();
  for (const data of batch) {
    const record = decodeFaceSearchRecord(data);
    const camera = cameraOf(record.InputInformation.KinesisVideo.StreamArn);
    for (const sighting of sightingsFromRecord(record, camera, { faceMatchThreshold: 85.5, retentionDays: 30 })) {
      const decision = decideAlert(sighting.personId, rules.get(sighting.personId), settings);
      if (!decision.alert) continue;
      const key = alertStateKey(sighting.personId, camera);
      const claim = { personId: sighting.personId, camera, sightingId: sighting.sightingId, frameTimeMs: frameTimeMs(sighting), cooldownMs: decision.cooldownMs };
      if (evaluateClaim(states.get(key), claim) === 'suppressed') continue;
      states.set(key, { sightingId: claim.sightingId, lastAlertAt: claim.frameTimeMs, status: 'sent' });
      sink += buildAlertMessage(sighting, { displayName: sighting.personId, cooldownSeconds: 60 }).message.length;
    }
  }
}

function time(run: (batch: string[]) => void): number {
  const start = process.hrtime.bigint();
  for (const batch of batches) run(batch);
  return Number(process.hrtime.bigint() - start) / 1e6;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

// Warm-up: both paths JIT-compiled (and the schema's generated parser built) before measuring.
for (let i = 0; i < 3; i += 1) {
  time(baseline);
  time(decodeAndDecide);
}
const base: number[] = [];
const ours: number[] = [];
for (let i = 0; i < ROUNDS; i += 1) {
  // Interleaved so that both see the same machine state.
  base.push(time(baseline));
  ours.push(time(decodeAndDecide));
}
const records = BATCH * BATCHES;
const baseMs = median(base);
const oursMs = median(ours);
const bytes = batches.flat().reduce((n, b) => n + b.length, 0) / records;
console.log(`records: ${records} in batches of ${BATCH}, ~${Math.round(bytes)} base64 bytes each; median of ${ROUNDS} rounds`);
console.log(`base64 + JSON.parse:  ${baseMs.toFixed(1)} ms  (${Math.round(records / (baseMs / 1000))} records/s)`);
console.log(`decode + decide:      ${oursMs.toFixed(1)} ms  (${Math.round(records / (oursMs / 1000))} records/s)`);
if (sink === 0) console.log('(nothing decided)');
console.log(`ratio=${(oursMs / baseMs).toFixed(2)} records_per_s=${Math.round(records / (oursMs / 1000))}`);
