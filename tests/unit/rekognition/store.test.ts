/** Collections on disk: the log is the descriptors' home once a large collection's ANN index holds the searchable copy. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Collection, type CollectionMeta } from '../../../local/rekognition/store';
import { DIM } from '../../../local/rekognition/vector-index';

const meta: CollectionMeta = {
  CollectionId: 'c',
  CollectionArn: 'arn:aws:rekognition:us-east-1:000000000000:collection/c',
  CreationTimestamp: 0,
  FaceModelVersion: '7.0',
};

function descriptor(i: number): Float32Array {
  return Float32Array.from({ length: DIM }, (_, d) => Math.sin(i * 12.9898 + d * 78.233) * 0.3);
}

function addFaces(c: Collection, from: number, to: number): string[] {
  const ids: string[] = [];
  for (let i = from; i < to; i++) {
    const f = c.addFace(
      { FaceId: `face-${i}`, ImageId: `image-${i}`, ExternalImageId: `person-${i % 7}`, BoundingBox: { Left: 0, Top: 0, Width: 1, Height: 1 }, Confidence: 99, IndexFacesModelVersion: '7.0' },
      descriptor(i),
    );
    ids.push(f.FaceId);
  }
  return ids;
}

describe('collection store: descriptors of a large collection', () => {
  let dir: string;
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'collection-'))));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('given a collection past the ANN threshold, when asking for descriptors, then they are read back from the log, also after deletes and a restart', () => {
    const opts = { annThreshold: 40 };
    const c = Collection.create(meta, dir, opts);
    addFaces(c, 0, 60);
    expect(c.index.usesAnn).toBe(true);
    expect(c.index.holdsVectors).toBe(false);
    expect(Array.from(c.descriptor('face-7') as Float32Array)).toEqual(Array.from(descriptor(7)));
    c.deleteFaces(['face-7', 'face-8']);
    expect(c.descriptor('face-7')).toBeNull();
    addFaces(c, 60, 65);
    expect(Array.from(c.descriptor('face-63') as Float32Array)).toEqual(Array.from(descriptor(63)));
    expect(c.index.search(descriptor(63), 1)[0]).toEqual({ key: (c.faces.get('face-63') as { key: number }).key, distance: 0 });
    c.close();

    const again = Collection.load(dir, opts);
    expect(again.faces.size).toBe(63);
    expect(again.index.holdsVectors).toBe(false);
    for (const i of [0, 9, 59, 64]) expect(Array.from(again.descriptor(`face-${i}`) as Float32Array)).toEqual(Array.from(descriptor(i)));
    expect(again.descriptor('face-8')).toBeNull();
    again.close();
  });

  test('given a log whose last line was torn by a crash, when loading and appending, then the torn line is dropped and nothing after it is lost', () => {
    const c = Collection.create(meta, dir, {});
    addFaces(c, 0, 3);
    c.close();
    fs.appendFileSync(path.join(dir, 'faces.log'), '{"op":"add","face":{"FaceId":"torn"');
    const reopened = Collection.load(dir, {});
    expect(reopened.faces.size).toBe(3);
    addFaces(reopened, 3, 5);
    reopened.close();
    const last = Collection.load(dir, {});
    expect([...last.faces.keys()].sort()).toEqual(['face-0', 'face-1', 'face-2', 'face-3', 'face-4']);
    expect(Array.from(last.descriptor('face-4') as Float32Array)).toEqual(Array.from(descriptor(4)));
    last.close();
  });

  test('given a log larger than the read chunk, when loading, then every line is replayed', () => {
    const c = Collection.create(meta, dir, { annThreshold: Infinity });
    addFaces(c, 0, 12000); // ~9 MB of log lines: more than one 8 MB read
    c.close();
    expect(fs.statSync(path.join(dir, 'faces.log')).size).toBeGreaterThan(8 << 20);
    const again = Collection.load(dir, { annThreshold: Infinity });
    expect(again.faces.size).toBe(12000);
    for (const i of [0, 6000, 11999]) expect(Array.from(again.descriptor(`face-${i}`) as Float32Array)).toEqual(Array.from(descriptor(i)));
    again.close();
  });
});
