/**
 * A whole collection as the local Rekognition holds it, at 10k / 100k / 1M synthetic faces (`--max N`, default
 * 1000000): what the service costs in memory and start-up time at that size, beyond the search index alone
 * (bench/search.ts).
 *
 * For each size the parent writes the collection's files as IndexFaces would have (faces.log: one line per face
 * with its FaceId, ImageId, ExternalImageId, box and descriptor) next to the saved graph of the search benchmark
 * (reused from its cache, built when missing), then a child process loads the collection the way the service
 * does at start (Collection.load) and measures the load time, the load's peak RSS, its RSS afterwards, the
 * latency of a 1:N search answered with the face's metadata (index search + the face read back from the log),
 * and of a face looked up by FaceId.
 *
 * Ends with: n=<N> load_s=<x> rss_mb=<m> peak_rss_mb=<p> search_p50_ms=<y> lookup_p50_ms=<z>
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Collection, type CollectionMeta, type StoredFace } from '../local/rekognition/store';
import { DIM, VectorIndex } from '../local/rekognition/vector-index';
import { arg, argStr, cacheDir, dataset, pct, runChild, savedGraph, settle, start } from './synthetic-faces';

const QUERIES = 300;
const NOISE = 'anisotropic';

interface ChildResult {
  faces: number;
  loadS: number;
  rssMb: number;
  peakRssMb: number;
  baseRssMb: number;
  heapMb: number;
  searchMs: number[];
  lookupMs: number[];
  found: number;
}


/** Serving side: loads the collection as the service does at start, then searches and looks faces up. */
async function child(): Promise<void> {
  const cfg = JSON.parse(argStr('child') as string) as { dir: string; queryFile: string; faceIds: string[] };
  await settle();
  const baseRss = process.memoryUsage().rss;
  const t0 = Date.now();
  const c = Collection.load(cfg.dir, {});
  const loadS = (Date.now() - t0) / 1000;
  const peakRssMb = process.resourceUsage().maxRSS / 1024;
  await settle();
  const b = fs.readFileSync(cfg.queryFile);
  const queries = new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.length));
  const searchMs: number[] = [];
  let found = 0;
  for (let q = 0; q < queries.length / DIM; q++) {
    const t = process.hrtime.bigint();
    const hit = c.index.search(queries.subarray(q * DIM, q * DIM + DIM), 1)[0];
    const face: StoredFace | undefined = hit && c.faceByKey(hit.key);
    searchMs.push(Number(process.hrtime.bigint() - t) / 1e6);
    if (face) found++;
  }
  const lookupMs: number[] = [];
  for (const id of cfg.faceIds) {
    const t = process.hrtime.bigint();
    const face = c.face(id);
    lookupMs.push(Number(process.hrtime.bigint() - t) / 1e6);
    if (face?.FaceId !== id) throw new Error(`face ${id} was not found by its FaceId`);
  }
  const result: ChildResult = {
    faces: c.size,
    loadS,
    rssMb: process.memoryUsage().rss / 2 ** 20,
    peakRssMb,
    baseRssMb: baseRss / 2 ** 20,
    heapMb: process.memoryUsage().heapUsed / 2 ** 20,
    searchMs,
    lookupMs,
    found,
  };
  c.close();
  (process.send as (m: unknown) => void)(result);
}

/** Writes collection.json and faces.log for faces 0..n-1 (keys as in the search benchmark's graph). */
function writeCollection(dir: string, vectors: Float32Array, owner: Int32Array): string[] {
  const meta: CollectionMeta = {
    CollectionId: 'bench',
    CollectionArn: 'arn:aws:rekognition:us-east-1:000000000000:collection/bench',
    CreationTimestamp: Math.floor(Date.now() / 1000),
    FaceModelVersion: '7.0',
  };
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'collection.json'), JSON.stringify(meta));
  const fd = fs.openSync(path.join(dir, 'faces.log'), 'w');
  const sample: string[] = [];
  const n = owner.length;
  let lines: string[] = [];
  for (let i = 0; i < n; i++) {
    const face: StoredFace = {
      FaceId: crypto.randomUUID(),
      ImageId: crypto.randomUUID(),
      ExternalImageId: `person-${owner[i]}`,
      BoundingBox: { Width: 0.21, Height: 0.28, Left: 0.4, Top: 0.12 },
      Confidence: 99.99,
      IndexFacesModelVersion: '7.0',
      key: i,
    };
    if (i % Math.max(1, Math.floor(n / QUERIES)) === 0) sample.push(face.FaceId);
    const v = Buffer.from(vectors.buffer, vectors.byteOffset + i * DIM * 4, DIM * 4).toString('base64');
    lines.push(JSON.stringify({ op: 'add', face, v }));
    if (lines.length === 10000 || i === n - 1) {
      fs.writeSync(fd, lines.join('\n') + '\n');
      lines = [];
    }
  }
  fs.closeSync(fd);
  return sample;
}

async function main(): Promise<void> {
  const max = arg('max', 1_000_000);
  const sizes = [10_000, 100_000, 1_000_000].filter((s) => s <= max);
  if (!sizes.includes(max)) sizes.push(max);
  const threshold = new VectorIndex().annThreshold;
  let last = '';
  for (const n of sizes) {
    const data = dataset(n, QUERIES, NOISE);
    const graph = n >= threshold ? savedGraph(n, NOISE, data.vectors, {}) : null;
    const work = path.join(path.dirname(cacheDir(n, NOISE, {}).dir), '..', 'collection', String(n));
    fs.rmSync(work, { recursive: true, force: true });
    const dir = path.join(work, 'collection');
    const faceIds = writeCollection(dir, data.vectors, data.owner);
    if (graph) {
      fs.copyFileSync(graph.annFile, path.join(dir, 'index.usearch'));
      fs.copyFileSync(`${graph.annFile}.json`, path.join(dir, 'index.usearch.json'));
    }
    const queryFile = path.join(work, 'queries.f32');
    fs.writeFileSync(queryFile, new Uint8Array(data.queries.buffer, data.queries.byteOffset, data.queries.byteLength));
    const logMb = fs.statSync(path.join(dir, 'faces.log')).size / 2 ** 20;
    const graphTime = graph ? fs.statSync(path.join(dir, 'index.usearch')).mtimeMs : 0;
    const r = await runChild<ChildResult>({ dir, queryFile, faceIds });
    // A graph that did not match the faces would have been rebuilt, and saved again on close.
    const rebuilt = graph !== null && fs.statSync(path.join(dir, 'index.usearch')).mtimeMs !== graphTime;
    fs.rmSync(work, { recursive: true, force: true });
    if (rebuilt) throw new Error('the service rebuilt the graph instead of loading the saved one');
    if (r.faces !== n) throw new Error(`the collection loaded ${r.faces} faces, not ${n}`);
    if (r.found !== QUERIES) throw new Error(`${QUERIES - r.found} searches came back without a face`);
    const f = (x: number) => x.toFixed(3);
    console.log(
      `n=${n}: ${graph ? `saved graph (${graph.build})` : 'exact search'}; faces.log ${logMb.toFixed(0)} MB; load ${r.loadS.toFixed(1)} s; ` +
        `RSS ${r.rssMb.toFixed(0)} MB after load (peak ${r.peakRssMb.toFixed(0)} MB while loading; Node alone ${r.baseRssMb.toFixed(0)} MB; JS heap ${r.heapMb.toFixed(0)} MB); ` +
        `search + face read p50 ${f(pct(r.searchMs, 0.5))} ms p99 ${f(pct(r.searchMs, 0.99))} ms; lookup by FaceId p50 ${f(pct(r.lookupMs, 0.5))} ms`,
    );
    last = `n=${n} load_s=${r.loadS.toFixed(1)} rss_mb=${r.rssMb.toFixed(0)} peak_rss_mb=${r.peakRssMb.toFixed(0)} search_p50_ms=${f(pct(r.searchMs, 0.5))} lookup_p50_ms=${f(pct(r.lookupMs, 0.5))}`;
  }
  console.log(last);
}

start(main, child);
