/**
 * Builds a camera-like test video from still photos: scenes of one or two faces on a plain background,
 * composed with sharp and encoded by ffmpeg (H.264, 640×480). Each frame pans and zooms a little, so no two
 * frames are identical, as with a real camera. Used by the demo, the e2e tests and the latency benchmark.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { ffmpegPath } from '../kinesis-video/frames';
import { cropFace, sourcePath, type FaceShot } from './cast';

export const VIDEO_WIDTH = 640;
export const VIDEO_HEIGHT = 480;

export interface Scene {
  durationSec: number;
  /** 0 to 3 faces, laid out left to right. */
  faces: FaceShot[];
  /** What the scene shows (printed by the demo; not drawn into the video). */
  label?: string;
}

export interface BuildVideoOptions {
  fps?: number;
  /** Face width in the frame, pixels (default 170 for one face, smaller for more). */
  faceWidth?: number;
}

/** Scene canvases are drawn this much larger than the frame, so the virtual camera can pan and zoom in them. */
const OVERSCAN = 1.12;

async function faceTile(shot: FaceShot, faceWidth: number): Promise<{ buffer: Buffer; width: number; height: number }> {
  // The crop keeps half a face of context on each side: the tile is about twice the face's width.
  const crop = await cropFace(sourcePath(shot.source), shot.box, { margin: 0.5, minFace: faceWidth });
  const tileWidth = Math.round(faceWidth * 2);
  const buffer = await sharp(crop).resize({ width: tileWidth }).toBuffer();
  const meta = await sharp(buffer).metadata();
  return { buffer, width: meta.width!, height: meta.height! };
}

/** The scene as one raw RGB canvas, OVERSCAN × the frame size. */
async function sceneCanvas(scene: Scene, options: BuildVideoOptions): Promise<{ data: Buffer; width: number; height: number }> {
  const width = Math.round(VIDEO_WIDTH * OVERSCAN);
  const height = Math.round(VIDEO_HEIGHT * OVERSCAN);
  const n = scene.faces.length;
  const faceWidth = options.faceWidth ?? (n <= 1 ? 170 : n === 2 ? 130 : 95);
  const tiles = await Promise.all(scene.faces.map((f) => faceTile(f, faceWidth)));
  const slot = width / Math.max(1, n);
  const composites = tiles.map((t, i) => ({
    input: t.buffer,
    left: Math.max(0, Math.round(slot * i + (slot - t.width) / 2)),
    top: Math.max(0, Math.round((height - t.height) / 2)),
  }));
  // A soft vertical gradient, like a dim corridor: flat colour would make every frame compress to nothing.
  const background = Buffer.from(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}"><defs><linearGradient id="g" x1="0" y1="0" x2="0" y2="1"><stop offset="0" stop-color="#5a6470"/><stop offset="1" stop-color="#2b3036"/></linearGradient></defs><rect width="100%" height="100%" fill="url(#g)"/></svg>`,
  );
  const { data, info } = await sharp(background).composite(composites).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height };
}

/** Writes the video to `file` (mp4) and returns its length in seconds. */
export async function buildVideo(scenes: Scene[], file: string, options: BuildVideoOptions = {}): Promise<number> {
  const fps = options.fps ?? 10;
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const ffmpeg = spawn(
    ffmpegPath(),
    ['-hide_banner', '-loglevel', 'error', '-y', '-f', 'image2pipe', '-framerate', String(fps), '-i', 'pipe:0',
      '-c:v', 'libx264', '-preset', 'veryfast', '-pix_fmt', 'yuv420p', '-g', String(fps), '-movflags', '+faststart', file],
    { stdio: ['pipe', 'ignore', 'pipe'] },
  );
  let stderr = '';
  ffmpeg.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-2000)));
  const exited = new Promise<number | null>((resolve, reject) => {
    ffmpeg.on('error', reject);
    ffmpeg.on('close', resolve);
  });
  const write = (chunk: Buffer) => new Promise<void>((resolve, reject) => ffmpeg.stdin.write(chunk, (e) => (e ? reject(e) : resolve())));

  let total = 0;
  for (const [s, scene] of scenes.entries()) {
    const canvas = await sceneCanvas(scene, options);
    const frames = Math.round(scene.durationSec * fps);
    for (let i = 0; i < frames; i++) {
      const t = frames > 1 ? i / (frames - 1) : 0;
      // Zoom from 1.0 to ~1.08 of the frame and drift sideways (direction alternates between scenes).
      const zoom = 1 + 0.08 * t;
      const w = Math.round((canvas.width / OVERSCAN) * (OVERSCAN / zoom));
      const h = Math.round((canvas.height / OVERSCAN) * (OVERSCAN / zoom));
      const drift = (s % 2 === 0 ? t : 1 - t) * (canvas.width - w);
      const left = Math.round(Math.min(canvas.width - w, Math.max(0, drift)));
      const top = Math.round((canvas.height - h) / 2);
      const jpeg = await sharp(canvas.data, { raw: { width: canvas.width, height: canvas.height, channels: 3 } })
        .extract({ left, top, width: w, height: h })
        .resize(VIDEO_WIDTH, VIDEO_HEIGHT)
        .jpeg({ quality: 90 })
        .toBuffer();
      await write(jpeg);
    }
    total += frames / fps;
  }
  ffmpeg.stdin.end();
  const code = await exited;
  if (code !== 0) throw new Error(`ffmpeg could not encode ${file} (exit ${code}): ${stderr}`);
  return total;
}
