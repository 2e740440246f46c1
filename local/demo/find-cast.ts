/**
 * How the demo's cast (local/demo/cast.ts) was chosen, re-runnable: `node local/run.js local/demo/find-cast.ts`.
 * Runs the local Rekognition's real face engine over the photos that ship in node_modules, finds every face
 * (whole image, then overlapping upscaled tiles for the small faces), indexes each face crop into a scratch
 * collection and prints, for every face, the other faces it matches at ≥ 80 similarity. Identities seen in
 * two or more different photos at ≥ 85.5 (the deployment's FaceMatchThreshold) can be "known people": one
 * photo registers them, another goes into the video.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DetectFacesCommand, IndexFacesCommand, CreateCollectionCommand, RekognitionClient, SearchFacesCommand } from '@aws-sdk/client-rekognition';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import sharp from 'sharp';
import { startRekognitionServer } from '../rekognition/server';
import { SOURCES, type Box, cropFace, sourcePath } from './cast';

interface Found {
  id: string;
  source: string;
  box: Box; // pixels of the source
  confidence: number;
}

const iou = (a: Box, b: Box) => {
  const x1 = Math.max(a.left, b.left);
  const y1 = Math.max(a.top, b.top);
  const x2 = Math.min(a.left + a.width, b.left + b.width);
  const y2 = Math.min(a.top + a.height, b.top + b.height);
  const inter = Math.max(0, x2 - x1) * Math.max(0, y2 - y1);
  return inter / (a.width * a.height + b.width * b.height - inter);
};

async function main(): Promise<void> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'facewatch-cast-'));
  const rek = await startRekognitionServer({ dataDir, port: 0 });
  const client = new RekognitionClient({
    region: 'us-east-1',
    endpoint: rek.url,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    requestHandler: new NodeHttpHandler(),
  });
  try {
    const found: Found[] = [];
    for (const [source] of Object.entries(SOURCES)) {
      const file = sourcePath(source);
      const meta = await sharp(file).metadata();
      const W = meta.width!;
      const H = meta.height!;
      const windows: { x: number; y: number; w: number; h: number }[] = [{ x: 0, y: 0, w: W, h: H }];
      const tile = 400;
      for (let y = 0; y < H; y += tile / 2) for (let x = 0; x < W; x += tile / 2) windows.push({ x, y, w: Math.min(tile, W - x), h: Math.min(tile, H - y) });
      const mine: Found[] = [];
      for (const win of windows) {
        if (win.w < 100 || win.h < 100) continue;
        const scale = win.w === W ? 1 : 2;
        const bytes = await sharp(file).extract({ left: win.x, top: win.y, width: win.w, height: win.h }).resize(win.w * scale).jpeg({ quality: 92 }).toBuffer();
        const { FaceDetails = [] } = await client.send(new DetectFacesCommand({ Image: { Bytes: bytes } }));
        for (const face of FaceDetails) {
          const b = face.BoundingBox!;
          const box = {
            left: Math.round(win.x + b.Left! * win.w),
            top: Math.round(win.y + b.Top! * win.h),
            width: Math.round(b.Width! * win.w),
            height: Math.round(b.Height! * win.h),
          };
          if (box.width < 24) continue;
          const same = mine.find((m) => iou(m.box, box) > 0.4);
          if (same) {
            if ((face.Confidence ?? 0) > same.confidence) Object.assign(same, { box, confidence: face.Confidence ?? 0 });
            continue;
          }
          mine.push({ id: `${source}#${mine.length}`, source, box, confidence: face.Confidence ?? 0 });
        }
      }
      console.log(`${source}: ${mine.length} face(s)`);
      found.push(...mine);
    }

    await client.send(new CreateCollectionCommand({ CollectionId: 'cast' }));
    const faceIdOf = new Map<string, string>();
    const byFaceId = new Map<string, Found>();
    for (const f of found) {
      const bytes = await cropFace(sourcePath(f.source), f.box);
      const out = await client
        .send(new IndexFacesCommand({ CollectionId: 'cast', Image: { Bytes: bytes }, MaxFaces: 1, QualityFilter: 'NONE', ExternalImageId: f.id.replace(/[^a-zA-Z0-9_.\-:]/g, '_') }))
        .catch(() => undefined);
      const faceId = out?.FaceRecords?.[0]?.Face?.FaceId;
      if (!faceId) continue;
      faceIdOf.set(f.id, faceId);
      byFaceId.set(faceId, f);
    }
    console.log('\nmatches ≥ 80 (similarity ≥ 99 = probably the same photo twice):');
    for (const f of found) {
      const faceId = faceIdOf.get(f.id);
      if (!faceId) continue;
      const { FaceMatches = [] } = await client.send(new SearchFacesCommand({ CollectionId: 'cast', FaceId: faceId, FaceMatchThreshold: 80, MaxFaces: 50 }));
      if (!FaceMatches.length) continue;
      const list = FaceMatches.map((m) => `${byFaceId.get(m.Face!.FaceId!)?.id}(${m.Similarity!.toFixed(1)})`).join(' ');
      console.log(`${f.id} ${JSON.stringify(f.box)} → ${list}`);
    }
    console.log('\nall faces:');
    for (const f of found) console.log(`${f.id} ${JSON.stringify(f.box)} conf=${f.confidence.toFixed(1)}${faceIdOf.has(f.id) ? '' : ' (not indexable)'}`);
  } finally {
    await rek.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
