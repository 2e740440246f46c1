/**
 * Finds faces in a video frame inside the processor itself, so that Rekognition is paid only to identify them
 * (SearchFacesByImage), never to find them (DetectFaces): @vladmandic/human's BlazeFace detector and face
 * mesh on TensorFlow.js' wasm backend, one thread. Weights and the wasm binary come from the npm packages
 * (copied into processVideo's zip by serverless.yml); nothing is fetched from the network. Per face it yields
 * what a face-search record holds: BoundingBox, Confidence, the five landmarks, Pose and Quality, as ratios of
 * the frame like DetectFaces' answer.
 */
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import type { DetectedFaceInput } from '../domain/frame-analysis';
import { localFetch } from './local-fetch';
import { laplacianVariance, meanOf, sharpnessFromVariance } from './quality';

type Any = any;
type Point = [number, number];

/** Where the packages' files are: node_modules beside the bundle (Lambda: /var/task), else the project's. */
export function assetRoot(start: string = __dirname): string {
  for (let dir = start; ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, 'node_modules', '@vladmandic', 'human', 'models', 'blazeface.json'))) return path.join(dir, 'node_modules');
    if (path.dirname(dir) === dir) throw new Error('The face detector\'s models (node_modules/@vladmandic/human/models) are missing from this package');
  }
}

const mid = (a: Point, b: Point): Point => [(a[0] + b[0]) / 2, (a[1] + b[1]) / 2];
const deg = (r: number) => (r * 180) / Math.PI;
/** Ratios to 6 decimals (a tenth of a pixel in a 4K frame), angles and scores to 3: records and sightings stay small. */
const ratio = (v: number) => Math.round(Math.min(1, Math.max(0, v)) * 1e6) / 1e6;
const fixed3 = (v: number) => Math.round(v * 1e3) / 1e3;

export interface FaceDetectorOptions {
  /** Faces with a lower detector score are not faces (0..1). */
  minScore?: number;
  maxFaces?: number;
}

export class HumanFaceDetector {
  private ready?: Promise<{ tf: Any; human: Any }>;

  constructor(private readonly options: FaceDetectorOptions = {}) {}

  /** Loads the models once, on the first frame (not at cold start: a stopped camera never pays for it). */
  private load(): Promise<{ tf: Any; human: Any }> {
    this.ready ??= (async () => {
      const nm = assetRoot();
      const wasmDir = path.join(nm, '@tensorflow/tfjs-backend-wasm/dist/');
      const realFetch = globalThis.fetch;
      (globalThis as Any).fetch = localFetch;
      try {
        // Human's package exports map hides its Node wasm build: required by path, bundled by esbuild.
        const { Human } = require('../../node_modules/@vladmandic/human/dist/human.node-wasm.js');
        const wasm = require('@tensorflow/tfjs-backend-wasm');
        wasm.setThreadsCount?.(1);
        wasm.setWasmPaths(wasmDir);
        const noSkip = { skipFrames: 0, skipTime: 0 };
        const human = new Human({
          backend: 'wasm',
          wasmPath: wasmDir,
          modelBasePath: 'file://' + path.join(nm, '@vladmandic/human/models/'),
          debug: false,
          cacheSensitivity: 0,
          filter: { enabled: false },
          gesture: { enabled: false },
          body: { enabled: false },
          hand: { enabled: false },
          object: { enabled: false },
          segmentation: { enabled: false },
          face: {
            enabled: true,
            detector: { rotation: false, maxDetected: this.options.maxFaces ?? 20, minConfidence: this.options.minScore ?? 0.5, iouThreshold: 0.1, return: false, ...noSkip },
            mesh: { enabled: true },
            iris: { enabled: false },
            description: { enabled: false },
            emotion: { enabled: false },
            antispoof: { enabled: false },
            liveness: { enabled: false },
            attention: { enabled: false },
          },
        });
        await human.load();
        return { tf: human.tf, human };
      } finally {
        (globalThis as Any).fetch = realFetch;
      }
    })();
    this.ready.catch(() => (this.ready = undefined));
    return this.ready;
  }

  /** The faces of a JPEG/PNG frame, in DetectFaces' shape. */
  async detectFaces(image: Uint8Array): Promise<DetectedFaceInput[]> {
    const { tf, human } = await this.load();
    const { data, info } = await sharp(image, { failOn: 'none' }).removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
    const { width, height } = info;
    const tensor = tf.tensor3d(new Uint8Array(data.buffer, data.byteOffset, data.length), [height, width, 3], 'int32');
    try {
      const result = await human.detect(tensor);
      const faces: DetectedFaceInput[] = [];
      for (const face of result.face as Any[]) {
        const measured = await this.measure(face, data, width, height);
        if (measured) faces.push(measured);
      }
      return faces;
    } finally {
      tf.dispose(tensor);
    }
  }

  private async measure(face: Any, rgb: Buffer, width: number, height: number): Promise<DetectedFaceInput | undefined> {
    const mesh = face.mesh as number[][] | undefined;
    if (!mesh || mesh.length < 468) return undefined;
    // The face box in Rekognition's convention (brows to chin, cheek to cheek), from the mesh's extent.
    let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
    for (let i = 0; i < 468; i++) {
      const [x, y] = mesh[i];
      x0 = Math.min(x0, x);
      x1 = Math.max(x1, x);
      y0 = Math.min(y0, y);
      y1 = Math.max(y1, y);
    }
    const box = { x: Math.max(0, x0), y: Math.max(0, y0), w: Math.min(width, x1) - Math.max(0, x0), h: Math.min(height, y1) - Math.max(0, y0) };
    if (box.w < 4 || box.h < 4) return undefined;
    const m = (i: number): Point => [mesh[i][0], mesh[i][1]];
    // Eyes, nose tip and mouth corners from the mesh; eyeLeft is the one with the smaller X, as in Rekognition's answers.
    const eyes = [mid(m(33), m(133)), mid(m(362), m(263))].sort((a, b) => a[0] - b[0]);
    const mouth = [m(61), m(291)].sort((a, b) => a[0] - b[0]);
    const point = (type: string, p: Point) => ({ Type: type, X: ratio(p[0] / width), Y: ratio(p[1] / height) });
    const angle = face.rotation?.angle ?? { pitch: 0, yaw: 0 };
    const grey = await greyCrop(rgb, width, height, box);
    return {
      BoundingBox: { Width: ratio(box.w / width), Height: ratio(box.h / height), Left: ratio(box.x / width), Top: ratio(box.y / height) },
      Confidence: fixed3(Math.min(99.999, Math.max(0, Number(face.boxScore ?? face.score ?? 0) * 100))),
      Landmarks: [point('eyeLeft', eyes[0]), point('eyeRight', eyes[1]), point('mouthLeft', mouth[0]), point('mouthRight', mouth[1]), point('nose', m(1))],
      Pose: {
        Roll: fixed3(deg(Math.atan2(eyes[1][1] - eyes[0][1], eyes[1][0] - eyes[0][0]))),
        Yaw: fixed3(deg(Number(angle.yaw ?? 0))),
        Pitch: fixed3(-deg(Number(angle.pitch ?? 0))),
      },
      Quality: { Brightness: fixed3((meanOf(grey) / 255) * 100), Sharpness: fixed3(sharpnessFromVariance(laplacianVariance(grey, QUALITY_SIDE, QUALITY_SIDE))) },
    };
  }
}

/** Quality is measured on the face box scaled to this square (the scale sharpnessFromVariance was calibrated on). */
const QUALITY_SIDE = 112;

/** The face box as a 112×112 grey image, resampled by sharp (bilinear, no aliasing to fake sharpness). */
async function greyCrop(rgb: Buffer, width: number, height: number, box: { x: number; y: number; w: number; h: number }): Promise<Uint8Array> {
  const left = Math.max(0, Math.floor(box.x));
  const top = Math.max(0, Math.floor(box.y));
  const region = { left, top, width: Math.max(1, Math.min(width - left, Math.round(box.w))), height: Math.max(1, Math.min(height - top, Math.round(box.h))) };
  return sharp(rgb, { raw: { width, height, channels: 3 } })
    .extract(region)
    .resize(QUALITY_SIDE, QUALITY_SIDE, { fit: 'fill' })
    .greyscale()
    .raw()
    .toBuffer();
}
