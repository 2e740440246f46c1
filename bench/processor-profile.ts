/**
 * `node local/run.js bench/processor-profile.ts`: where the time of one analysed frame goes in the
 * self-managed processor, with the real adapters (SDK → HTTP → local Rekognition → engine workers) on
 * 640×480 frames holding 1, 2 and 3 faces (two registered people and strangers, as bench/latency.ts).
 *
 * Per frame, one at a time (no contention): the engine's own time for DetectFaces (decode / detect / verify /
 * describe), the same call through the SDK and the local server (the difference is HTTP + JSON + base64),
 * one sharp crop per face, one SearchFacesByImage per face. Then frames/s with the processor's concurrency
 * (4 frames in flight) on every worker, with and without the face-search reuse of consecutive frames.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CreateCollectionCommand, IndexFacesCommand, RekognitionClient } from '@aws-sdk/client-rekognition';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import sharp from 'sharp';
import { RekognitionFaceAnalyzer } from '../shared/adapters/rekognition-face-analyzer';
import { SharpFaceCropper } from '../shared/adapters/sharp-face-cropper';
import { paddedCropRegion } from '../shared/domain/frame-analysis';
import type { BoundingBox } from '../shared/domain/model';
import { startRekognitionServer } from '../local/rekognition/server';
import { ANNA, MARCO, STRANGERS, cropFace, sourcePath, type FaceShot } from '../local/demo/cast';

const W = 640;
const H = 480;
const median = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)] ?? NaN;

/** A frame like bench/latency.ts's video: faces side by side on a gradient. */
async function frame(faces: FaceShot[]): Promise<Buffer> {
  const faceWidth = faces.length <= 1 ? 170 : faces.length === 2 ? 130 : 95;
  const slot = W / faces.length;
  const composites = await Promise.all(
    faces.map(async (shot, i) => {
      const crop = await cropFace(sourcePath(shot.source), shot.box, { margin: 0.5, minFace: faceWidth });
      const buffer = await sharp(crop).resize({ width: Math.round(faceWidth * 2) }).toBuffer();
      const meta = await sharp(buffer).metadata();
      return { input: buffer, left: Math.max(0, Math.round(slot * i + (slot - meta.width!) / 2)), top: Math.max(0, Math.round((H - meta.height!) / 2)) };
    }),
  );
  const background = Buffer.from(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}"><defs><linearGradient id="g" x1="0" y1="0" x2="0" y2="1"><stop offset="0" stop-color="#5a6470"/><stop offset="1" stop-color="#2b3036"/></linearGradient></defs><rect width="100%" height="100%" fill="url(#g)"/></svg>`,
  );
  return sharp(background).composite(composites).removeAlpha().jpeg({ quality: 80 }).toBuffer();
}

async function timed<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const t = performance.now();
  const r = await fn();
  return [r, performance.now() - t];
}

async function main(): Promise<void> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'facewatch-profile-'));
  const workers = Math.min(4, os.cpus().length);
  const server = await startRekognitionServer({ host: '127.0.0.1', port: 0, dataDir, workers });
  const client = new RekognitionClient({ region: 'us-east-1', endpoint: server.url, credentials: { accessKeyId: 'local', secretAccessKey: 'local' }, requestHandler: new NodeHttpHandler() });
  try {
    const collectionId = 'profile';
    await client.send(new CreateCollectionCommand({ CollectionId: collectionId }));
    for (const person of [MARCO, ANNA]) {
      const bytes = await cropFace(sourcePath(person.registration.source), person.registration.box);
      await client.send(new IndexFacesCommand({ CollectionId: collectionId, Image: { Bytes: bytes }, ExternalImageId: person.name.replace(/\s/g, '_'), MaxFaces: 1 }));
    }
    const analyzer = new RekognitionFaceAnalyzer(client);
    const options = { collectionId, faceMatchThreshold: 80, maxFaces: 5 };
    const frames = {
      '1 face': await frame([MARCO.onCamera[0]]),
      '2 faces': await frame([ANNA.onCamera[0], STRANGERS[0]]),
      '3 faces': await frame([MARCO.onCamera[1], STRANGERS[0], STRANGERS[1]]),
    };
    console.log(`${workers} engine workers; frame JPEG sizes: ${Object.entries(frames).map(([k, v]) => `${k} ${(v.length / 1024).toFixed(0)} KB`).join(', ')}`);
    for (const [label, image] of Object.entries(frames)) {
      const engine: Record<string, number[]> = { decode: [], detect: [], verify: [], describe: [], total: [] };
      const viaSdk: number[] = [];
      const crops: number[] = [];
      const searches: number[] = [];
      const searchEngine: number[] = [];
      const searchStages: Record<string, number[]> = { decode: [], detect: [], verify: [], describe: [] };
      let faces = 0;
      for (let i = 0; i < 6; i++) {
        const analysis = await server.service.engine.analyze(image, { attributes: false, descriptors: 'none' });
        for (const k of ['decode', 'detect', 'verify', 'describe'] as const) engine[k].push(analysis.timings[k]);
        engine.total.push(analysis.ms);
        const [detected, ms] = await timed(() => analyzer.detectFaces(image));
        viaSdk.push(ms);
        faces = detected.length;
        const cropper = new SharpFaceCropper();
        for (const face of detected) {
          const [crop, cropMs] = await timed(() => cropper.crop(image, paddedCropRegion(face.BoundingBox as BoundingBox, 0.4)));
          crops.push(cropMs);
          const [, searchMs] = await timed(() => analyzer.searchFacesByImage(crop.image, options));
          searches.push(searchMs);
          const searchAnalysis = await server.service.engine.analyze(crop.image, { attributes: false, descriptors: 'largest' });
          searchEngine.push(searchAnalysis.ms);
          for (const k of ['decode', 'detect', 'verify', 'describe'] as const) searchStages[k].push(searchAnalysis.timings[k]);
        }
      }
      const m = (a: number[]) => median(a).toFixed(0);
      console.log(
        `${label} (${faces} found): DetectFaces engine ${m(engine.total)} ms (decode ${m(engine.decode)}, detect ${m(engine.detect)}, verify ${m(engine.verify)}, describe ${m(engine.describe)}); ` +
          `via SDK+HTTP ${m(viaSdk)} ms; per face: crop ${m(crops)} ms, SearchFacesByImage ${m(searches)} ms (engine ${m(searchEngine)} ms: decode ${m(searchStages.decode)}, detect ${m(searchStages.detect)}, verify ${m(searchStages.verify)}, describe ${m(searchStages.describe)}); ` +
          `frame total ≈ ${(median(viaSdk) + faces * (median(crops) + median(searches))).toFixed(0)} ms of work`,
      );
    }
  } finally {
    client.destroy();
    await server.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
