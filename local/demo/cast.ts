/**
 * The demo's cast: face boxes in photos that ship inside installed npm packages (no download, no network).
 * Chosen with local/demo/find-cast.ts (the local Rekognition's real engine); the demo re-checks at run time
 * that each known person's video photo matches their registration photo and prints the similarity.
 * The names are invented: nobody in these photos is known to us.
 */
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';

export interface Box {
  left: number;
  top: number;
  width: number;
  height: number;
}

/** A face in a photo: the file (a key of SOURCES) and its box in pixels of that file. */
export interface FaceShot {
  source: keyof typeof SOURCES;
  box: Box;
}

/** Photos used, relative to node_modules (where they come from is in docs/demo.md). */
export const SOURCES = {
  facematch: '@vladmandic/human/assets/screenshot-facematch.jpg',
  samples: '@vladmandic/human/assets/samples.jpg',
  faceid: '@vladmandic/human/assets/screenshot-faceid.jpg',
  facedetect: '@vladmandic/human/assets/screenshot-facedetect.jpg',
  sample1: '@vladmandic/face-api/demo/sample1.jpg',
  sample2: '@vladmandic/face-api/demo/sample2.jpg',
  sample3: '@vladmandic/face-api/demo/sample3.jpg',
  sample4: '@vladmandic/face-api/demo/sample4.jpg',
  sample5: '@vladmandic/face-api/demo/sample5.jpg',
  sample6: '@vladmandic/face-api/demo/sample6.jpg',
} as const;

function projectRoot(): string {
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, 'node_modules', '@vladmandic'))) return dir;
    if (path.dirname(dir) === dir) return process.cwd();
  }
}

export function sourcePath(source: string): string {
  const rel = (SOURCES as Record<string, string>)[source];
  if (!rel) throw new Error(`Unknown photo "${source}" (known: ${Object.keys(SOURCES).join(', ')})`);
  // Not require.resolve: these packages' `exports` maps hide their assets.
  return path.join(projectRoot(), 'node_modules', rel);
}

/**
 * The face with context around it (half the box on each side, clamped to the photo), upscaled so the face is
 * at least 160 px wide: small crops (the facematch screenshot's are ~80–110 px) stay detectable.
 */
export async function cropFace(file: string, box: Box, options: { margin?: number; minFace?: number } = {}): Promise<Buffer> {
  const margin = options.margin ?? 0.5;
  const minFace = options.minFace ?? 160;
  const meta = await sharp(file).metadata();
  const left = Math.max(0, Math.round(box.left - box.width * margin));
  const top = Math.max(0, Math.round(box.top - box.height * margin));
  const right = Math.min(meta.width!, Math.round(box.left + box.width * (1 + margin)));
  const bottom = Math.min(meta.height!, Math.round(box.top + box.height * (1 + margin)));
  const scale = Math.max(1, minFace / box.width);
  return sharp(file)
    .extract({ left, top, width: right - left, height: bottom - top })
    .resize(Math.round((right - left) * scale), Math.round((bottom - top) * scale), { kernel: 'lanczos3' })
    .jpeg({ quality: 92 })
    .toBuffer();
}

export interface KnownPerson {
  /** Invented name, the folder under faces/ it is registered as. */
  name: string;
  /** The photo that registers them. */
  registration: FaceShot;
  /** Different photo(s) of them shown on camera. */
  onCamera: FaceShot[];
}

/**
 * The man of the facematch screenshot: its "Selected Face" registers him; his webcam shot in the faceid
 * screenshot and two other tiles of the facematch grid (different photos) go on camera.
 */
export const MARCO: KnownPerson = {
  name: 'Marco Rossi',
  registration: { source: 'facematch', box: { left: 1, top: 51, width: 168, height: 142 } },
  onCamera: [
    { source: 'faceid', box: { left: 37, top: 160, width: 91, height: 97 } },
    { source: 'facematch', box: { left: 1615, top: 303, width: 75, height: 72 } },
    { source: 'facematch', box: { left: 1301, top: 299, width: 72, height: 76 } },
  ],
};

/** A woman of face-api's sample3.jpg, who is also in another photo of the facematch grid (3rd row from the bottom). */
export const ANNA: KnownPerson = {
  name: 'Anna Keller',
  registration: { source: 'sample3', box: { left: 1055, top: 242, width: 251, height: 270 } },
  onCamera: [{ source: 'facematch', box: { left: 130, top: 755, width: 67, height: 76 } }],
};

export const KNOWN: KnownPerson[] = [MARCO, ANNA];

/** Faces that match no registered person (checked at run time against the collection). */
export const STRANGERS: FaceShot[] = [
  { source: 'sample6', box: { left: 669, top: 362, width: 214, height: 277 } },
  { source: 'sample3', box: { left: 581, top: 353, width: 229, height: 252 } },
];
