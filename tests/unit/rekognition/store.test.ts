/** Collections on disk: the log is the descriptors' home once a large collection's ANN index holds the searchable copy. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Collection, hash30, type CollectionMeta } from '../../../local/rekognition/store';
import { DIM, VectorIndex } from '../../../local/rekognition/vector-index';
import { clusteredVectors } from '../../support/vectors';

const meta: CollectionMeta = {
  CollectionId: 'c',
  CollectionArn: 'arn:aws:rekognition:us-east-1:000000000000:collection/c',
  CreationTimestamp: 0,
  FaceModelVersion: '7.0',
};

/** A distinct pseudo-random descriptor per face (a sine of i would make face i and i+15 near twins: 15 x 12.99 ≈ 31 x 2π). */
function descriptor(i: number): Float32Array {
  let state = (i + 1) * 0x9e3779b1;
  const next = (): number => {
    state = Math.imul(state ^ (state >>> 15), 0x2c1b3c6d) ^ Math.imul(state ^ (state >>> 12), 0x297a2d39);
    return ((state ^ (state >>> 15)) >>> 0) / 2 ** 32;
  };
  return Float32Array.from({ length: DIM }, () => (next() - 0.5) * 0.6);
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
    expect(c.index.search(descriptor(63), 1)[0]).toEqual({ key: (c.face('face-63') as { key: number }).key, distance: 0 });
    c.close();

    const again = Collection.load(dir, opts);
    expect(again.size).toBe(63);
    expect(again.index.holdsVectors).toBe(false);
    for (const i of [0, 9, 59, 64]) expect(Array.from(again.descriptor(`face-${i}`) as Float32Array)).toEqual(Array.from(descriptor(i)));
    expect(again.descriptor('face-8')).toBeNull();
    again.close();
  });

  test('given a large collection with its saved graph, when restarting, then no descriptor is decoded unless the graph must be rebuilt', () => {
    const opts = { annThreshold: 40 };
    const c = Collection.create(meta, dir, opts);
    addFaces(c, 0, 50);
    c.deleteFaces(['face-3']);
    c.close();
    const addMany = jest.spyOn(VectorIndex.prototype, 'addMany');
    try {
      const again = Collection.load(dir, opts);
      expect(addMany).not.toHaveBeenCalled();
      expect(again.size).toBe(49);
      expect(again.faceByKey(again.index.search(descriptor(20), 1)[0].key)?.FaceId).toBe('face-20');
      again.close();
      fs.rmSync(path.join(dir, 'index.usearch'));
      const rebuilt = Collection.load(dir, opts);
      expect(addMany).toHaveBeenCalled();
      expect(rebuilt.faceByKey(rebuilt.index.search(descriptor(20), 1)[0].key)?.FaceId).toBe('face-20');
      expect(rebuilt.descriptor('face-3')).toBeNull();
      rebuilt.close();
      expect(fs.existsSync(path.join(dir, 'index.usearch'))).toBe(true);
    } finally {
      addMany.mockRestore();
    }
  });

  test('given a log whose last line was torn by a crash, when loading and appending, then the torn line is dropped and nothing after it is lost', () => {
    const c = Collection.create(meta, dir, {});
    addFaces(c, 0, 3);
    c.close();
    fs.appendFileSync(path.join(dir, 'faces.log'), '{"op":"add","face":{"FaceId":"torn"');
    const reopened = Collection.load(dir, {});
    expect(reopened.size).toBe(3);
    addFaces(reopened, 3, 5);
    reopened.close();
    const last = Collection.load(dir, {});
    expect(last.facesAfter(0, 100).map((f) => f.FaceId)).toEqual(['face-0', 'face-1', 'face-2', 'face-3', 'face-4']);
    expect(Array.from(last.descriptor('face-4') as Float32Array)).toEqual(Array.from(descriptor(4)));
    last.close();
  });

  test('given a log larger than the read chunk, when loading, then every line is replayed', () => {
    const c = Collection.create(meta, dir, { annThreshold: Infinity });
    addFaces(c, 0, 12000); // ~9 MB of log lines: more than one 8 MB read
    c.close();
    expect(fs.statSync(path.join(dir, 'faces.log')).size).toBeGreaterThan(8 << 20);
    const again = Collection.load(dir, { annThreshold: Infinity });
    expect(again.size).toBe(12000);
    for (const i of [0, 6000, 11999]) expect(Array.from(again.descriptor(`face-${i}`) as Float32Array)).toEqual(Array.from(descriptor(i)));
    again.close();
  });

  test('given more faces than one replay block and deletes in both, when loading, then every live face keeps its own descriptor', () => {
    const c = Collection.create(meta, dir, { annThreshold: Infinity });
    addFaces(c, 0, 70000); // rows are replayed in blocks of 65 536
    c.deleteFaces(['face-10', 'face-65535', 'face-65536', 'face-69999']);
    c.close();
    const again = Collection.load(dir, { annThreshold: Infinity });
    expect(again.size).toBe(69996);
    for (const i of [0, 11, 65534, 65537, 69998]) {
      expect(Array.from(again.descriptor(`face-${i}`) as Float32Array)).toEqual(Array.from(descriptor(i)));
      expect(again.faceByKey(again.index.search(descriptor(i), 1)[0].key)?.FaceId).toBe(`face-${i}`);
    }
    for (const i of [10, 65535, 65536, 69999]) expect(again.descriptor(`face-${i}`)).toBeNull();
    again.close();
  });
});

describe('collection store: face metadata read back from the log', () => {
  let dir: string;
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'collection-'))));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  const box = { Left: 0.1, Top: 0.2, Width: 0.3, Height: 0.4 };
  const addTo = (c: Collection, faceId: string, imageId: string, i: number) =>
    c.addFace({ FaceId: faceId, ImageId: imageId, ExternalImageId: `person-${i}`, BoundingBox: box, Confidence: 98.5, IndexFacesModelVersion: '7.0' }, descriptor(i));

  test('given faces added and deleted, when reading them by FaceId, key and image, also after a restart, then each comes back as added', () => {
    const c = Collection.create(meta, dir, {});
    const a = addTo(c, 'a', 'image-1', 1);
    addTo(c, 'b', 'image-1', 2);
    addTo(c, 'c', 'image-2', 3);
    addTo(c, 'd', 'image-3', 4);
    c.deleteFaces(['b']);
    expect(c.face('a')).toEqual({ FaceId: 'a', ImageId: 'image-1', ExternalImageId: 'person-1', BoundingBox: box, Confidence: 98.5, IndexFacesModelVersion: '7.0', key: a.key });
    expect(c.faceByKey(a.key)).toEqual(c.face('a'));
    expect(c.face('b')).toBeUndefined();
    for (const coll of [c, (c.close(), Collection.load(dir, {}))]) {
      expect(coll.facesOfImage('image-1').map((f) => f.FaceId)).toEqual(['a']);
      expect(coll.facesOfImage('image-2').map((f) => f.FaceId)).toEqual(['c']);
      expect(coll.facesOfImage('image-9')).toEqual([]);
      expect(coll.face('c')?.ExternalImageId).toBe('person-3');
      expect(coll.size).toBe(3);
    }
  });

  test('given faces with deletes among them, when paging in key order, then each live face comes once, in the order indexed', () => {
    const c = Collection.create(meta, dir, {});
    const keys = ['f0', 'f1', 'f2', 'f3', 'f4', 'f5'].map((id, i) => addTo(c, id, `image-${i}`, i).key);
    c.deleteFaces(['f1', 'f4']);
    const first = c.facesAfter(0, 2);
    expect(first.map((f) => f.FaceId)).toEqual(['f0', 'f2']);
    expect(c.facesAfter(first[1].key, 2).map((f) => f.FaceId)).toEqual(['f3', 'f5']);
    expect(c.facesAfter(keys[5], 2)).toEqual([]);
    expect(c.facesWithIds(['f5', 'f1', 'zz']).map((f) => f.key)).toEqual([keys[5]]);
  });

  test('given two FaceIds and two ImageIds whose hashes collide, when reading and deleting, also after a restart, then each id finds only its own face', () => {
    const seen = new Map<number, string>();
    let pair: [string, string] | null = null;
    for (let i = 0; !pair; i++) {
      const id = `id-${i}`;
      const other = seen.get(hash30(id));
      if (other) pair = [other, id];
      else seen.set(hash30(id), id);
    }
    const [x, y] = pair;
    const c = Collection.create(meta, dir, {});
    addTo(c, x, y, 1);
    addTo(c, y, x, 2);
    addTo(c, 'z', x, 3);
    expect(c.face(x)?.ImageId).toBe(y);
    expect(c.face(y)?.ImageId).toBe(x);
    expect(c.facesOfImage(x).map((f) => f.FaceId)).toEqual([y, 'z']);
    expect(c.facesOfImage(y).map((f) => f.FaceId)).toEqual([x]);
    expect(c.deleteFaces([x, x])).toEqual([x]);
    for (const coll of [c, (c.close(), Collection.load(dir, {}))]) {
      expect(coll.face(x)).toBeUndefined();
      expect(coll.face(y)?.ExternalImageId).toBe('person-2');
      expect(coll.facesOfImage(y)).toEqual([]);
      expect(coll.size).toBe(2);
      expect(Array.from(coll.descriptor(y) as Float32Array)).toEqual(Array.from(descriptor(2)));
    }
  });

  test('given a deleted face, when reading the log on disk, then its ids and descriptor are gone at once, and the log still replays', () => {
    const c = Collection.create(meta, dir, {});
    addTo(c, 'kept-face', 'image-k', 1);
    addTo(c, 'erased-face', 'image-e', 2);
    addTo(c, 'later-face', 'image-l', 3);
    const b64 = (i: number) => Buffer.from(descriptor(i).buffer).toString('base64');
    const log = () => fs.readFileSync(path.join(dir, 'faces.log'), 'utf8');
    expect(log()).toContain(b64(2));
    c.deleteFaces(['erased-face']);
    expect(log()).not.toContain(b64(2));
    expect(log()).not.toContain('image-e');
    expect(log().match(/erased-face/g)).toHaveLength(1); // only the delete line names it
    expect(log()).toContain(b64(1));
    c.close();
    const again = Collection.load(dir, {});
    expect(again.size).toBe(2);
    expect(again.face('erased-face')).toBeUndefined();
    addTo(again, 'new-face', 'image-n', 4);
    again.close();
    const last = Collection.load(dir, {});
    expect(last.facesAfter(0, 10).map((f) => f.FaceId)).toEqual(['kept-face', 'later-face', 'new-face']);
    expect(Array.from(last.descriptor('later-face') as Float32Array)).toEqual(Array.from(descriptor(3)));
    last.close();
  });
});

describe('collection store: persistence', () => {
  const clustered = (n: number, seed = 1) => clusteredVectors(n, { seed, groupSize: 5, centreSpread: 0.066, photoSpread: 0.025 });
  test('given a collection past the ANN threshold with deletes, when reloaded, then its faces, its graph and its next key survive', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rek-col-'));
    try {
      const meta = { CollectionId: 'c', CollectionArn: 'arn', CreationTimestamp: 1, FaceModelVersion: '7.0' };
      const c = Collection.create(meta, dir, { annThreshold: 50 });
      const data = clustered(60, 3);
      const ids: string[] = [];
      for (let i = 0; i < 60; i++) {
        const f = c.addFace(
          { FaceId: `00000000-0000-0000-0000-${String(i).padStart(12, '0')}`, ImageId: 'img', BoundingBox: {}, Confidence: 99, IndexFacesModelVersion: '7.0' },
          data.subarray(i * DIM, i * DIM + DIM),
        );
        ids.push(f.FaceId);
      }
      c.deleteFaces([ids[0], ids[1]]);
      c.close();
      expect(fs.existsSync(path.join(dir, 'index.usearch'))).toBe(true);
      const again = Collection.load(dir, { annThreshold: 50 });
      expect(again.size).toBe(58);
      expect(again.index.usesAnn).toBe(true);
      const hit = again.index.search(data.subarray(5 * DIM, 6 * DIM), 1)[0];
      expect(again.faceByKey(hit.key)?.FaceId).toBe(ids[5]);
      const next = again.addFace({ FaceId: 'x', ImageId: 'i', BoundingBox: {}, Confidence: 1, IndexFacesModelVersion: '7.0' }, data.subarray(0, DIM));
      expect(next.key).toBe(61);
      again.close();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
