/**
 * dlib's example face photos (Debian libdlib19.1), fetched once by scripts/fetch-dlib-faces.sh into
 * .cache/dlib/faces. Tests call dlibFaces() and skip clearly when the photos cannot be obtained.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const root = path.resolve(__dirname, '../..');
let cached: string | null | undefined;

/** The folder holding bald_guys.jpg etc., or null if the script cannot fetch it (no apt, no network). */
export function dlibFaces(): string | null {
  if (cached !== undefined) return cached;
  const dir = path.join(root, '.cache/dlib/faces');
  if (fs.existsSync(path.join(dir, 'bald_guys.jpg'))) return (cached = dir);
  try {
    const out = execFileSync('bash', [path.join(root, 'scripts/fetch-dlib-faces.sh')], { encoding: 'utf8', timeout: 120_000 });
    const folder = out.trim().split('\n').pop() ?? dir;
    cached = fs.existsSync(path.join(folder, 'bald_guys.jpg')) ? folder : null;
  } catch {
    cached = null;
  }
  return cached;
}

/** `describe` when dlib's photos are available, otherwise `describe.skip` with the reason in the title. */
export function describeWithDlib(name: string, fn: (dir: string) => void): void {
  const dir = dlibFaces();
  if (dir) describe(name, () => fn(dir));
  else describe.skip(`${name} (SKIPPED: dlib faces unavailable, run scripts/fetch-dlib-faces.sh)`, () => fn(''));
}

export type BaldGuy = 'vin' | 'statham' | 'willis' | 'rock';

/**
 * Ground truth for bald_guys.jpg (1986×1545): the centre of each of the 24 photographed faces (pixels,
 * labelled by eye) and who it is: 4 people × 6 photos. Other faces in the collage (a blurred crowd) are
 * not listed.
 */
export const BALD_GUYS: { person: BaldGuy; x: number; y: number }[] = [
  { person: 'vin', x: 146, y: 161 },
  { person: 'vin', x: 388, y: 296 },
  { person: 'vin', x: 640, y: 194 },
  { person: 'vin', x: 140, y: 464 },
  { person: 'vin', x: 645, y: 515 },
  { person: 'vin', x: 154, y: 1389 },
  { person: 'statham', x: 392, y: 108 },
  { person: 'statham', x: 958, y: 190 },
  { person: 'statham', x: 392, y: 525 },
  { person: 'statham', x: 960, y: 491 },
  { person: 'statham', x: 144, y: 777 },
  { person: 'statham', x: 498, y: 935 },
  { person: 'willis', x: 857, y: 908 },
  { person: 'willis', x: 1148, y: 846 },
  { person: 'willis', x: 124, y: 1061 },
  { person: 'willis', x: 1185, y: 1149 },
  { person: 'willis', x: 458, y: 1351 },
  { person: 'willis', x: 848, y: 1333 },
  { person: 'rock', x: 1600, y: 253 },
  { person: 'rock', x: 1879, y: 491 },
  { person: 'rock', x: 1691, y: 753 },
  { person: 'rock', x: 1165, y: 1393 },
  { person: 'rock', x: 1510, y: 1407 },
  { person: 'rock', x: 1866, y: 1392 },
];

/** Index in BALD_GUYS of the labelled face nearest to a box centre, or -1 if none within `maxDist` px. */
export function nearestBaldGuy(cx: number, cy: number, maxDist = 80): number {
  let best = -1;
  let bd = maxDist;
  BALD_GUYS.forEach((g, i) => {
    const d = Math.hypot(g.x - cx, g.y - cy);
    if (d < bd) {
      bd = d;
      best = i;
    }
  });
  return best;
}

/** Labelled face boxes (pixels) of dlib's PASCAL photos from training.xml and testing.xml. */
export function dlibLabelledBoxes(dir: string): Map<string, { x: number; y: number; width: number; height: number }[]> {
  const out = new Map<string, { x: number; y: number; width: number; height: number }[]>();
  for (const file of ['training.xml', 'testing.xml']) {
    const xml = fs.readFileSync(path.join(dir, file), 'utf8');
    for (const m of xml.matchAll(/<image file='([^']+)'[^>]*>([\s\S]*?)<\/image>/g)) {
      const boxes = [...m[2].matchAll(/<box top='(\d+)' left='(\d+)' width='(\d+)' height='(\d+)'/g)].map((b) => ({
        x: Number(b[2]),
        y: Number(b[1]),
        width: Number(b[3]),
        height: Number(b[4]),
      }));
      out.set(m[1], (out.get(m[1]) ?? []).concat(boxes));
    }
  }
  return out;
}
