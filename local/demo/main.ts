/**
 * `npm run demo`: the whole product on one machine, offline, in about two minutes (docs/demo.md).
 *   npm run demo -- [--exit] [--reset] [--fps 5] [--data-dir .facewatch] [--port 4566] [--api-port 3000] [--mail-port 1080]
 * Starts the local stack, registers two (invented) people from photos shipped in node_modules, builds a short
 * video from other photos of them and of strangers, streams it into the camera's Kinesis video stream, starts
 * the processor through the REST API, prints sightings and alerts as they arrive, stops the processor, checks
 * the outcome and says where to look next. The stack stays up until Ctrl-C (or stops at once with --exit).
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { LOCAL_CREDENTIALS, startLocalStack, type LocalStack } from '../stack/stack';
import { KNOWN, MARCO, ANNA, STRANGERS, cropFace, sourcePath, type FaceShot, type KnownPerson } from './cast';
import { OutboxWatcher, sleep, StackClient, type SightingItem } from './harness';
import { buildVideo, type Scene } from './video';

const CAMERA = 'front-door';
const UNKNOWN = 'UNKNOWN';

/** The story: each scene ~5 s. Marco comes back within the alert cooldown, so his second visit sends no alert. */
export const DEMO_SCENES: Scene[] = [
  { durationSec: 2, faces: [], label: 'an empty corridor' },
  { durationSec: 5, faces: [MARCO.onCamera[0]], label: `${MARCO.name} (another photo than the registered one)` },
  { durationSec: 5, faces: [STRANGERS[0]], label: 'a stranger' },
  { durationSec: 5, faces: [ANNA.onCamera[0], STRANGERS[1]], label: `${ANNA.name} with another stranger` },
  { durationSec: 5, faces: [MARCO.onCamera[1]], label: `${MARCO.name} again, within the cooldown: no second alert` },
  { durationSec: 4, faces: [MARCO.onCamera[2], ANNA.onCamera[0]], label: `${MARCO.name} and ${ANNA.name} together` },
];

const bold = (s: string) => (process.stdout.isTTY ? `\x1b[1m${s}\x1b[0m` : s);
const dim = (s: string) => (process.stdout.isTTY ? `\x1b[2m${s}\x1b[0m` : s);
const ok = (pass: boolean) => (pass ? '✓' : '✗');
const secs = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

function options() {
  const { values } = parseArgs({
    options: {
      exit: { type: 'boolean', default: false },
      reset: { type: 'boolean', default: false },
      'data-dir': { type: 'string' },
      port: { type: 'string' },
      'api-port': { type: 'string' },
      'mail-port': { type: 'string' },
      fps: { type: 'string', default: '5' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    console.log('usage: npm run demo -- [--exit] [--reset] [--fps 5] [--data-dir .facewatch] [--port 4566] [--api-port 3000] [--mail-port 1080]');
    process.exit(0);
  }
  const port = (v: string | undefined, d: number) => (v === undefined ? d : Number(v));
  return {
    exit: values.exit,
    reset: values.reset,
    dataDir: values['data-dir'],
    port: port(values.port, 4566),
    apiPort: port(values['api-port'], 3000),
    mailPort: port(values['mail-port'], 1080),
    fps: values.fps!,
  };
}

let stack: LocalStack | undefined;
async function stopStack(): Promise<void> {
  const s = stack;
  stack = undefined;
  if (s) await s.stop();
}

async function main(): Promise<void> {
  const opts = options();
  const t0 = Date.now();
  const elapsed = () => dim(`[${secs(Date.now() - t0).padStart(6)}]`);
  const say = (line: string) => console.log(`${elapsed()} ${line}`);

  console.log(bold('facewatch demo: video in, alerts out — everything on 127.0.0.1, no AWS account, no network\n'));
  say('Starting the local stack (S3, DynamoDB, Kinesis, Kinesis Video, Rekognition, SNS, the functions, the API)…');

  process.once('SIGINT', () => {
    console.log('\nStopping…');
    void stopStack().then(() => process.exit(130));
  });

  // The video is built while the stack starts.
  const stackStarting = startLocalStack({ dataDir: opts.dataDir, port: opts.port, apiPort: opts.apiPort, mailPort: opts.mailPort, reset: opts.reset, quiet: true,
    // The deployment default (5 frames/s) keeps up with real time on a 2-core machine; --fps packages another rate.
    params: opts.fps === '5' ? undefined : { processorSamplingFps: opts.fps },
  });
  stackStarting.catch(() => undefined);
  // Not under the data dir: --reset empties it while the stack starts.
  const videoFile = path.resolve('.build', 'demo', 'front-door.mp4');
  const videoLength = await buildVideo(DEMO_SCENES, videoFile);
  say(`Built a ${videoLength} s video (640×480, H.264) from ${DEMO_SCENES.length} scenes: ${path.relative(process.cwd(), videoFile)}`);
  stack = await stackStarting;
  const info = stack.stackInfo;
  say(`Stack up: AWS endpoint ${stack.endpoint}, API ${stack.apiUrl}, mail ${stack.mailUrl}`);

  const client = new StackClient({ ...stack, dataDir: info.dataDir, region: info.region, credentials: LOCAL_CREDENTIALS });
  const bucket = Object.values(info.resources).find((r) => r.type === 'AWS::S3::Bucket')?.ref;
  if (!bucket) throw new Error('The stack has no faces bucket');
  const before = await client.processor(CAMERA);
  if (before.state === 'RUNNING') await client.stopProcessor(CAMERA); // a previous run left it on: start from a clean state

  // 1. Register the known people, one photo each.
  console.log(`\n${bold('1. Register people')} (each from ONE photo; the names are invented)`);
  const personIds = new Map<string, string>(); // personId → name
  const faceIdsOf = new Map<string, Set<string>>();
  for (const person of KNOWN) {
    const photo = await cropFace(sourcePath(person.registration.source), person.registration.box);
    const key = await client.uploadFace(bucket, person.name, `${person.registration.source}.jpg`, photo);
    const registered = await client.waitForFace(person.name, key);
    personIds.set(registered.personId, person.name);
    faceIdsOf.set(person.name, new Set(registered.faces.map((f) => f.faceId)));
    say(`${person.name.padEnd(12)} ← s3://${bucket}/${key}  (from ${path.basename(sourcePath(person.registration.source))}) → person id ${registered.personId}`);
  }

  // 2. Check the cast for real: the photos on camera must match (or, for strangers, must not).
  const collectionId = before.settings.collectionId!;
  const threshold = before.settings.faceMatchThreshold ?? 80;
  console.log(`\n${bold('2. Check the cast')} with the local Rekognition (SearchFacesByImage, FaceMatchThreshold ${threshold})`);
  let castOk = true;
  const nameOfFace = (faceId: string) => [...faceIdsOf].find(([, ids]) => ids.has(faceId))?.[0];
  const check = async (shot: FaceShot, expected: KnownPerson | undefined) => {
    const matches = await client.search(collectionId, await cropFace(sourcePath(shot.source), shot.box));
    const cast = matches.filter((m) => nameOfFace(m.faceId));
    const best = cast[0];
    const where = `${path.basename(sourcePath(shot.source))} @${shot.box.left},${shot.box.top}`;
    if (expected) {
      const pass = best !== undefined && nameOfFace(best.faceId) === expected.name && best.similarity >= threshold;
      castOk &&= pass;
      say(`${ok(pass)} ${expected.name.padEnd(12)} on camera (${where}): similarity ${best ? best.similarity.toFixed(1) : '—'} to ${best ? nameOfFace(best.faceId) : 'nobody'}`);
    } else {
      const pass = !best || best.similarity < threshold;
      castOk &&= pass;
      say(`${ok(pass)} stranger${' '.repeat(5)} on camera (${where}): best similarity ${best ? `${best.similarity.toFixed(1)} (${nameOfFace(best.faceId)})` : '—'} < ${threshold}`);
    }
  };
  for (const person of KNOWN) for (const shot of person.onCamera) await check(shot, person);
  for (const shot of STRANGERS) await check(shot, undefined);
  if (!castOk) console.log('! The face engine does not see the cast as local/demo/cast.ts expects; the run goes on, the checks at the end will tell.');

  // 3. Start the processor through the API, then play the video into the camera's stream.
  console.log(`\n${bold('3. Start the processor')} (POST ${stack.apiUrl}/processor/start?camera=${CAMERA})`);
  const running = await client.startProcessor(CAMERA);
  const videoStream = running.videoStream.name!;
  say(`processor ${running.name}: ${running.state} (mode ${running.mode}, ${opts.fps} frames/s sampled); video stream ${videoStream}`);

  console.log(`\n${bold('4. Camera')} ${CAMERA}: streaming the video in real time (PutMedia), scenes:`);
  let at = 0;
  for (const scene of DEMO_SCENES) {
    console.log(dim(`   ${String(at).padStart(2)}–${String(at + scene.durationSec).padStart(2)} s  ${scene.label}`));
    at += scene.durationSec;
  }
  const since = new Date(Date.now() - 1000);
  const outbox = new OutboxWatcher(path.join(info.dataDir, 'outbox'), since.getTime());
  const streamStart = Date.now();
  const nameOf = (personId: string) => (personId === UNKNOWN ? 'unknown face' : (personIds.get(personId) ?? personId));
  const shown = new Map<string, number>(); // person → frame time of their last sighting
  const seen = new Map<string, SightingItem>();
  const alerts: ReturnType<OutboxWatcher['poll']> = [];
  const poll = async () => {
    const fresh = (await client.sightings(CAMERA, since)).filter((s) => !seen.has(s.sightingId));
    for (const s of fresh) {
      seen.set(s.sightingId, s);
      const t = Date.parse(s.seenAt);
      const last = shown.get(s.personId);
      // One line when someone comes into view (not one per analysed frame).
      if (last === undefined || t - last > 2500) {
        const similarity = s.similarity !== undefined ? ` ${s.similarity.toFixed(1)}%` : '';
        say(`👁  sighting  +${secs(t - streamStart).padStart(6)} of video  ${nameOf(s.personId)}${similarity}  at ${s.camera}`);
      }
      shown.set(s.personId, t);
    }
    for (const a of outbox.poll()) {
      alerts.push(a);
      say(`🔔 alert     ${a.sms}`);
    }
  };

  const streaming = client.streamFile(videoStream, videoFile);
  let streamed = false;
  const done = streaming.finally(() => (streamed = true));
  while (!streamed) {
    await Promise.race([sleep(1000), done.catch(() => undefined)]);
    await poll();
  }
  const result = await done;
  say(`video sent: ${result.persisted} fragments persisted${result.errors.length ? `, ${result.errors.length} errors` : ''}`);

  // Let the processor finish the video (it may lag behind real time on a small machine), then stop it: the last
  // scene has faces, so a sighting from its last seconds means the processor has caught up.
  const videoEndMs = streamStart + videoLength * 1000;
  const caughtUp = () => [...seen.values()].some((s) => Date.parse(s.seenAt) >= videoEndMs - 2500);
  const drainStart = Date.now();
  while (!caughtUp() && Date.now() - drainStart < 90_000) {
    await sleep(1000);
    await poll();
  }
  say(caughtUp() ? `the processor has analysed the whole video (${secs(Date.now() - drainStart)} after the camera stopped)` : 'the processor is still behind after 90 s: stopping it anyway');
  console.log(`\n${bold('5. Stop the processor')} (POST ${stack.apiUrl}/processor/stop?camera=${CAMERA})`);
  const stopped = await client.stopProcessor(CAMERA);
  say(`processor ${stopped.name}: ${stopped.state}`);
  await sleep(1500);
  await poll();

  // 6. What happened, checked.
  console.log(`\n${bold('6. Outcome')}`);
  const all = [...seen.values()];
  const checks: [boolean, string][] = [];
  for (const person of KNOWN) {
    const id = [...personIds].find(([, n]) => n === person.name)?.[0];
    const mine = all.filter((s) => s.personId === id);
    const theirAlerts = alerts.filter((a) => a.person === id);
    const best = Math.max(0, ...mine.map((s) => s.similarity ?? 0));
    checks.push([mine.length > 0, `${person.name} recognised by name in ${mine.length} analysed frames (best similarity ${best.toFixed(1)}%)`]);
    checks.push([theirAlerts.length === 1, `${person.name}: ${theirAlerts.length} alert(s) — exactly one expected within the cooldown`]);
  }
  const unknown = all.filter((s) => s.personId === UNKNOWN);
  checks.push([unknown.length > 0, `strangers seen as unknown faces in ${unknown.length} analysed frames`]);
  // Recurring unknown visitors (docs/visitors.md): the strangers, each recognised as the same visitor across frames.
  const visitors = await client.visitors();
  checks.push([visitors.length > 0 && unknown.some((s) => s.visitorId), `strangers kept as ${visitors.length} recurring visitor(s): ${visitors.map((v) => `${v.visitorId} (${v.visits} visit${v.visits === 1 ? '' : 's'})`).join(', ')}`]);
  const strayIds = all.filter((s) => s.personId !== UNKNOWN && !personIds.has(s.personId));
  if (strayIds.length) checks.push([false, `${strayIds.length} sighting(s) matched people outside the cast: ${[...new Set(strayIds.map((s) => s.personId))].join(', ')}`]);
  const frameTimes = all.map((s) => Date.parse(s.seenAt));
  checks.push([frameTimes.every((t) => t >= streamStart - 2000 && t <= Date.now()), 'every sighting carries the frame time of the video it came from']);
  for (const [pass, text] of checks) console.log(`   ${ok(pass)} ${text}`);
  const allPassed = checks.every(([pass]) => pass);
  say(allPassed ? bold('demo passed') : bold('demo finished with failed checks (above)'));

  const tokenFile = path.relative(process.cwd(), info.tokenFile) || info.tokenFile;
  const dataFlag = opts.dataDir ? ` --data-dir ${opts.dataDir}` : '';
  console.log(`
${bold('Where to look next')}
  The console:               the link below (sightings with their faces, people, visitors, cameras)
  Mail (the email alerts):   ${stack.mailUrl}
  The API:                   curl -s -H "Authorization: Bearer $(cat ${tokenFile})" "${stack.apiUrl}/sightings?camera=${CAMERA}&limit=5"
                             curl -s -H "Authorization: Bearer $(cat ${tokenFile})" "${stack.apiUrl}/people"
                             curl -s -H "Authorization: Bearer $(cat ${tokenFile})" "${stack.apiUrl}/visitors"
  The CLI:                   npx facewatch${dataFlag} sightings
                             npx facewatch${dataFlag} alerts
                             npx facewatch${dataFlag} people
  Alerts as files:           ${path.join(path.relative(process.cwd(), info.dataDir) || '.', 'outbox')}/
  The video:                 ${path.relative(process.cwd(), videoFile)}   (play it again: npx facewatch${dataFlag} camera --stream ${videoStream} --file ${path.relative(process.cwd(), videoFile)})
  Logs of every function:    ${path.join(path.relative(process.cwd(), info.dataDir) || '.', 'logs')}/
`);
  const consoleLink = `${stack.consoleUrl}#token=${stack.token}`;
  if (opts.exit) {
    await stopStack();
    process.exitCode = allPassed ? 0 : 1;
    console.log(`The stack is stopped (--exit); \`npm run demo\` without it keeps it running for the console at ${bold(consoleLink)}`);
    return;
  }
  console.log(`The stack keeps running for you to explore (start the processor again with: curl -s -X POST -H "Authorization: Bearer $(cat ${tokenFile})" ${stack.apiUrl}/processor/start). Ctrl-C stops it.`);
  console.log(`Open the operator console: ${bold(consoleLink)}`);
  if (!allPassed) process.exitCode = 1;
}

main().catch(async (error) => {
  console.error(`\ndemo failed: ${error instanceof Error ? error.message : String(error)}`);
  if (error instanceof Error && error.stack && process.env.DEBUG) console.error(error.stack);
  await stopStack().catch(() => undefined);
  process.exit(1);
});
