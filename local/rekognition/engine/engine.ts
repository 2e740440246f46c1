/**
 * The face engine: detection, mesh, iris, pose (and optionally age/gender/emotion) with @vladmandic/human
 * on the tfjs wasm backend, 68 landmarks + 128-d recognition descriptor with @vladmandic/face-api on the
 * Human-detected face. Runs inside a worker thread (see pool.ts): one engine per thread, models loaded once
 * from the installed packages, never from the network.
 */
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import type { AnalyzeOptions, AnalyzeResult, Point, RawFace } from './types';
import { localFetch } from '../../../shared/face-detector/local-fetch';
import { laplacianVariance, meanOf, sharpnessFromVariance } from '../../../shared/face-detector/quality';

/* eslint-disable @typescript-eslint/no-explicit-any */
type Any = any;

/** Longest side analysed: larger images are scaled down first (outputs are ratios, so unchanged). */
const MAX_SIDE = 1920;
const ANIMALS = new Set(['bird', 'cat', 'dog', 'horse', 'sheep', 'cow', 'elephant', 'bear', 'zebra', 'giraffe', 'teddy bear']);
/** Faces whose detector box score is below this get checked against the object detector (animal veto). */
const VERIFY_BELOW_BOX_SCORE = 0.65;
/** Cross-model landmark disagreement (fraction of the inter-ocular distance) above which a candidate is no face. */
const MAX_DISAGREEMENT = 0.5;

export function findProjectRoot(start: string = __dirname): string {
  let dir = start;
  for (;;) {
    const pkg = path.join(dir, 'package.json');
    if (fs.existsSync(pkg) && fs.existsSync(path.join(dir, 'node_modules', '@vladmandic'))) return dir;
    const up = path.dirname(dir);
    if (up === dir) return process.cwd();
    dir = up;
  }
}

const mid = (a: Point, b: Point): Point => [(a[0] + b[0]) / 2, (a[1] + b[1]) / 2];
const dist = (a: Point, b: Point): number => Math.hypot(a[0] - b[0], a[1] - b[1]);
const area = (f: RawFace): number => f.box.width * f.box.height;

export class FaceEngine {
  private tf: Any;
  private human: Any;
  private objects: Any;
  private faceapi: Any;
  private ready: Promise<void> | null = null;

  constructor(private readonly root: string = findProjectRoot()) {}

  load(): Promise<void> {
    if (!this.ready) this.ready = this.doLoad();
    return this.ready;
  }

  private async doLoad(): Promise<void> {
    const nm = path.join(this.root, 'node_modules');
    const wasmDir = path.join(nm, '@tensorflow/tfjs-backend-wasm/dist/') ;
    const realFetch = globalThis.fetch;
    (globalThis as Any).fetch = localFetch;
    try {
      this.tf = require(path.join(nm, '@tensorflow/tfjs'));
      const wasm = require(path.join(nm, '@tensorflow/tfjs-backend-wasm'));
      wasm.setThreadsCount?.(1); // one inference thread per worker: the pool provides the parallelism
      wasm.setWasmPaths(wasmDir);
      const { Human } = require(path.join(nm, '@vladmandic/human/dist/human.node-wasm.js'));
      this.faceapi = require(path.join(nm, '@vladmandic/face-api/dist/face-api.node-wasm.js'));
      const common = {
        backend: 'wasm',
        wasmPath: wasmDir,
        modelBasePath: 'file://' + path.join(nm, '@vladmandic/human/models/'),
        debug: false,
        cacheSensitivity: 0,
        filter: { enabled: false },
        gesture: { enabled: false },
        body: { enabled: false },
        hand: { enabled: false },
        segmentation: { enabled: false },
      };
      this.human = new Human({ ...common, face: this.faceConfig(true), object: { enabled: false } });
      this.objects = new Human({
        ...common,
        face: { enabled: false },
        object: { enabled: true, minConfidence: 0.2, maxDetected: 20, skipFrames: 0, skipTime: 0 },
      });
      await this.human.load();
      await this.objects.load();
      const modelDir = path.join(nm, '@vladmandic/face-api/model');
      await this.faceapi.nets.faceLandmark68Net.loadFromDisk(modelDir);
      await this.faceapi.nets.faceRecognitionNet.loadFromDisk(modelDir);
    } finally {
      (globalThis as Any).fetch = realFetch;
    }
  }

  private faceConfig(attributes: boolean): Any {
    const noSkip = { skipFrames: 0, skipTime: 0 };
    return {
      enabled: true,
      detector: { rotation: true, maxDetected: 100, minConfidence: 0.1, iouThreshold: 0.1, return: false, ...noSkip },
      mesh: { enabled: true },
      iris: { enabled: attributes, ...noSkip },
      description: { enabled: attributes, ...noSkip },
      emotion: { enabled: attributes, minConfidence: 0.05, ...noSkip },
      antispoof: { enabled: false },
      liveness: { enabled: false },
      attention: { enabled: false },
    };
  }

  /** Decodes (JPEG/PNG, EXIF auto-orientation) and analyses one image. */
  async analyze(image: Uint8Array, opts: AnalyzeOptions): Promise<AnalyzeResult> {
    await this.load();
    const started = Date.now();
    let pipeline = sharp(image, { failOn: 'none' }).rotate();
    const meta = await sharp(image, { failOn: 'none' }).metadata();
    const swap = (meta.orientation ?? 1) >= 5;
    const w0 = (swap ? meta.height : meta.width) ?? 0;
    const h0 = (swap ? meta.width : meta.height) ?? 0;
    if (Math.max(w0, h0) > MAX_SIDE) pipeline = pipeline.resize({ width: MAX_SIDE, height: MAX_SIDE, fit: 'inside' });
    const { data, info } = await pipeline.removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
    const tf = this.tf;
    const width = info.width;
    const height = info.height;
    const tensor = tf.tensor3d(new Uint8Array(data.buffer, data.byteOffset, data.length), [height, width, 3], 'int32');
    const timings = { decode: Date.now() - started, detect: 0, verify: 0, describe: 0 };
    try {
      let t = Date.now();
      const res = await this.human.detect(tensor, { face: this.faceConfig(opts.attributes) });
      timings.detect = Date.now() - t;
      t = Date.now();
      const faces: RawFace[] = [];
      let rejected = 0;
      const candidates = res.face as Any[];
      let animals: { box: number[]; score: number }[] | null = null;
      let persons: { box: number[]; score: number }[] = [];
      if (candidates.some((f) => (f.boxScore ?? 0) < VERIFY_BELOW_BOX_SCORE)) {
        const objs = await this.objects.detect(tensor);
        animals = (objs.object as Any[]).filter((o) => ANIMALS.has(o.label) && o.score >= 0.3);
        persons = (objs.object as Any[]).filter((o) => o.label === 'person');
      }
      timings.verify = Date.now() - t;
      t = Date.now();
      const measured: { face: RawFace; aligned: Any }[] = [];
      for (const f of candidates) {
        const m = await this.measure(tensor, width, height, f, opts.attributes);
        if (!m) {
          rejected++;
          continue;
        }
        const face = m.face;
        if (animals && face.boxScore < VERIFY_BELOW_BOX_SCORE) {
          const cx = face.box.x + face.box.width / 2;
          const cy = face.box.y + face.box.height / 2;
          const inside = (o: { box: number[] }) => cx >= o.box[0] && cx <= o.box[0] + o.box[2] && cy >= o.box[1] && cy <= o.box[1] + o.box[3];
          const animal = animals.filter(inside).reduce((mx, o) => Math.max(mx, o.score), 0);
          const person = persons.filter(inside).reduce((mx, o) => Math.max(mx, o.score), 0);
          if (animal > 0 && animal > person) {
            rejected++;
            continue;
          }
        }
        measured.push(m);
      }
      // The descriptor (the recognition net, the costliest model per face) only where the caller needs it:
      // DetectFaces none, SearchFacesByImage the largest face, IndexFaces every face.
      const wanted = opts.descriptors ?? 'all';
      const largest = measured.reduce<{ face: RawFace } | undefined>((best, m) => (!best || area(m.face) > area(best.face) ? m : best), undefined);
      for (const m of measured) {
        if (wanted === 'all' || (wanted === 'largest' && m === largest)) m.face.descriptor = await this.descriptorOf(tensor, m.aligned);
        faces.push(m.face);
      }
      timings.describe = Date.now() - t;
      return { width, height, faces, rejected, ms: Date.now() - started, timings };
    } finally {
      tf.dispose(tensor);
    }
  }

  /** The 128-d descriptor of a face, from its landmark-aligned crop. */
  private async descriptorOf(tensor: Any, aligned: Any): Promise<number[]> {
    const [alignedTensor] = await this.faceapi.extractFaceTensors(tensor, [aligned]);
    try {
      return Array.from((await this.faceapi.nets.faceRecognitionNet.computeFaceDescriptor(alignedTensor)) as Float32Array);
    } finally {
      this.tf.dispose(alignedTensor);
    }
  }

  /** Everything about one detected face but its descriptor (box, landmarks, pose, quality, attributes); null when no face. */
  private async measure(tensor: Any, width: number, height: number, f: Any, attributes: boolean): Promise<{ face: RawFace; aligned: Any } | null> {
    const tf = this.tf;
    const faceapi = this.faceapi;
    const mesh = f.mesh as number[][];
    if (!mesh || mesh.length < 468) return null;
    // Face box in the style of face-api's SSD detector (what its landmark net expects), from the mesh extent.
    let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
    for (let i = 0; i < 468; i++) {
      const [x, y] = mesh[i];
      if (x < x0) x0 = x;
      if (x > x1) x1 = x;
      if (y < y0) y0 = y;
      if (y > y1) y1 = y;
    }
    const mw = x1 - x0;
    const mh = y1 - y0;
    const bx = Math.max(0, x0 + 0.034 * mw);
    const by = Math.max(0, y0 - 0.165 * mh);
    const bw = Math.min(width - bx, 0.96 * mw);
    const bh = Math.min(height - by, 1.17 * mh);
    if (bw < 8 || bh < 8) return null;
    const det = new faceapi.FaceDetection(f.boxScore ?? f.score ?? 0.5, new faceapi.Rect(bx / width, by / height, bw / width, bh / height), { width, height });
    const [crop] = await faceapi.extractFaceTensors(tensor, [det]);
    let lm68: Any;
    try {
      lm68 = await faceapi.nets.faceLandmark68Net.detectLandmarks(crop);
    } finally {
      tf.dispose(crop);
    }
    const withLm = faceapi.extendWithFaceLandmarks(faceapi.extendWithFaceDetection({}, det), lm68);
    const p: Point[] = (withLm.landmarks.positions as { x: number; y: number }[]).map((q) => [q.x, q.y]);
    const m = (i: number): Point => [mesh[i][0], mesh[i][1]];
    // Two independent landmark models must agree on where the eyes, nose, mouth and chin are.
    const meshPts = [mid(m(33), m(133)), mid(m(362), m(263)), m(1), m(61), m(291), m(152)];
    const lmPts = [mid(p[36], p[39]), mid(p[42], p[45]), p[30], p[48], p[54], p[8]];
    const iod = Math.max(1, dist(meshPts[0], meshPts[1]));
    const disagreement = meanOf(meshPts.map((q, i) => dist(q, lmPts[i]) / iod));
    if (disagreement > MAX_DISAGREEMENT) return null;

    const aligned = withLm.landmarks.align(null, { useDlibAlignment: true });

    // Reported box: the usual face-box convention (brows/forehead to chin, cheek to cheek), i.e. the SSD-style
    // box widened a little and started lower; measured against dlib's hand-labelled boxes (IoU ~0.8).
    const rx = Math.max(0, bx - 0.09 * bw);
    const ry = Math.max(0, by + 0.14 * bh);
    const box = { x: rx, y: ry, width: Math.min(width - rx, 1.15 * bw), height: Math.min(height - ry, 0.88 * bh) };
    // Quality on a 112x112 grey crop of the face box.
    const grey: Float32Array = tf.tidy(() => {
      const img = tf.expandDims(tf.cast(tensor, 'float32'), 0);
      const c = tf.image.cropAndResize(img, [[by / height, bx / width, (by + bh) / height, (bx + bw) / width]], [0], [112, 112]);
      return tf.sum(tf.mul(c, tf.tensor1d([0.299, 0.587, 0.114])), -1);
    }).dataSync();
    const lapVar = laplacianVariance(grey, 112, 112);
    const brightness = (meanOf(Array.from(grey)) / 255) * 100;

    const boxScore = Number(f.boxScore ?? f.score ?? 0);
    const confidence = Math.max(0, Math.min(99.9999,
      99.9999 - 40 * Math.max(0, disagreement - 0.15) / 0.35 - 30 * Math.max(0, 0.45 - boxScore)));

    const eyeOpen = (up: number, down: number, a: number, b: number) => dist(m(up), m(down)) / Math.max(1, dist(m(a), m(b)));
    const eyeOpenness = (eyeOpen(159, 145, 33, 133) + eyeOpen(386, 374, 362, 263)) / 2;
    const mouthWidth = dist(m(61), m(291));
    const mouthOpenness = dist(m(13), m(14)) / Math.max(1, mouthWidth);
    const mouthWidthRatio = mouthWidth / iod;

    let pupils: [Point, Point] | null = null;
    const ann = f.annotations ?? {};
    if (ann.leftEyeIris?.[0] && ann.rightEyeIris?.[0]) {
      const a: Point = [ann.leftEyeIris[0][0], ann.leftEyeIris[0][1]];
      const b: Point = [ann.rightEyeIris[0][0], ann.rightEyeIris[0][1]];
      pupils = a[0] <= b[0] ? [a, b] : [b, a];
    }
    const angle = f.rotation?.angle ?? { pitch: 0, yaw: 0, roll: 0 };
    const deg = (r: number) => (r * 180) / Math.PI;
    // Roll from the eye line (image coordinates, positive = clockwise), more stable than the mesh fit.
    const roll = deg(Math.atan2(meshPts[1][1] - meshPts[0][1], meshPts[1][0] - meshPts[0][0]));

    const face: RawFace = {
      box,
      boxScore,
      disagreement,
      confidence,
      landmarks68: p,
      pupils,
      eyeOpenness,
      mouthOpenness,
      mouthWidthRatio,
      pose: { pitch: -deg(angle.pitch ?? 0), roll, yaw: deg(angle.yaw ?? 0) },
      brightness,
      sharpness: sharpnessFromVariance(lapVar),
      laplacianVariance: lapVar,
      descriptor: [],
      attributes: attributes
        ? {
            age: typeof f.age === 'number' ? f.age : null,
            gender: f.gender === 'male' || f.gender === 'female' ? f.gender : null,
            genderScore: Number(f.genderScore ?? 0),
            emotions: Array.isArray(f.emotion) ? f.emotion.map((e: Any) => ({ emotion: String(e.emotion), score: Number(e.score) })) : [],
            gaze: f.rotation?.gaze ? { bearing: Number(f.rotation.gaze.bearing), strength: Number(f.rotation.gaze.strength) } : null,
          }
        : null,
    };
    return { face, aligned };
  }
}
