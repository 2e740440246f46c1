/**
 * Face engine benchmark: time per 640×480 frame with 1 and 3 faces (real photos from dlib's examples) as
 * DetectFaces asks for it (DEFAULT: no descriptor; ALL: every attribute model), as IndexFaces (every face's
 * descriptor) and as SearchFacesByImage (the largest face's descriptor), and DetectFaces frames/s with the
 * worker pool on all cores.
 * Ends with: fps=<frames/s> ms_1face=<x> ms_3faces=<y>
 */
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { EnginePool } from '../local/rekognition/engine/pool';
import { dlibFaces } from '../tests/support/dlib';

const median = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];

async function frame(file: string, crop?: { left: number; top: number; width: number; height: number }): Promise<Buffer> {
  let img = sharp(file);
  if (crop) img = img.extract(crop);
  return img.resize(640, 480, { fit: 'cover' }).jpeg({ quality: 90 }).toBuffer();
}

async function main(): Promise<void> {
  const dir = dlibFaces();
  if (!dir) throw new Error('dlib faces unavailable: run scripts/fetch-dlib-faces.sh');
  const workers = Math.min(4, os.cpus().length);
  const pool = new EnginePool({ size: workers });
  const t0 = Date.now();
  await pool.ready();
  console.log(`${workers} workers ready in ${Date.now() - t0} ms`);
  const one = await frame(path.join(dir, 'bald_guys.jpg'), { left: 290, top: 680, width: 440, height: 330 });
  const three = await frame(path.join(dir, '2008_002506.jpg'));
  const results: Record<string, number> = {};
  for (const [name, img] of [['1face', one], ['3faces', three]] as const) {
    const faces = (await pool.analyze(img, { attributes: false })).faces.length;
    const variants = [
      ['DetectFaces DEFAULT', { attributes: false, descriptors: 'none' }],
      ['DetectFaces ALL', { attributes: true, descriptors: 'none' }],
      ['SearchFacesByImage (largest face)', { attributes: false, descriptors: 'largest' }],
      ['IndexFaces (every face)', { attributes: false, descriptors: 'all' }],
    ] as const;
    // One untimed pass each first: the wasm kernels warm up per input shape.
    for (const [, opts] of variants) await pool.analyze(img, opts);
    for (const [variant, opts] of variants) {
      const times: number[] = [];
      for (let i = 0; i < 8; i++) times.push((await pool.analyze(img, opts)).ms);
      console.log(`${name} (${faces} found) ${variant}: median ${median(times)} ms per frame (one worker, min ${Math.min(...times)}, max ${Math.max(...times)})`);
      if (variant === 'DetectFaces DEFAULT') results[name] = median(times);
    }
  }
  const n = 40;
  const t1 = Date.now();
  await Promise.all(Array.from({ length: n }, () => pool.analyze(one, { attributes: false, descriptors: 'none' })));
  const fps = (n * 1000) / (Date.now() - t1);
  const t2 = Date.now();
  await Promise.all(Array.from({ length: n }, () => pool.analyze(three, { attributes: false, descriptors: 'none' })));
  const fps3 = (n * 1000) / (Date.now() - t2);
  console.log(`DetectFaces DEFAULT throughput on ${workers} workers: 1 face ${fps.toFixed(1)} frames/s, 3 faces ${fps3.toFixed(1)} frames/s`);
  await pool.close();
  console.log(`fps=${fps.toFixed(1)} ms_1face=${results['1face']} ms_3faces=${results['3faces']}`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
