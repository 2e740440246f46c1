/**
 * A pool of worker threads, each owning one FaceEngine (models loaded once per worker). Requests queue
 * and go to the first idle worker: with 2 workers both cores are used.
 * The worker entry (TypeScript) is bundled with esbuild into .build/ at first use, so the pool works
 * the same under ts-jest, under local/run.js bundles and from plain node.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { findProjectRoot } from './engine';
import type { AnalyzeOptions, AnalyzeResult } from './types';

interface Job {
  id: number;
  image: Uint8Array;
  opts: AnalyzeOptions;
  urgent: boolean;
  resolve: (r: AnalyzeResult) => void;
  reject: (e: Error) => void;
}

interface Slot {
  worker: Worker;
  busy: Job | null;
  ready: boolean;
}

export class EngineError extends Error {}

let workerBundle: string | null = null;
function buildWorker(root: string): string {
  if (workerBundle) return workerBundle;
  const entry = path.join(root, 'local/rekognition/engine/worker.ts');
  const outfile = path.join(root, '.build/rekognition/engine-worker.js');
  // Several processes (jest workers) may build at once: write to a private temp file, then rename.
  const tmp = `${outfile}.${process.pid}.${Date.now()}.tmp`;
  fs.mkdirSync(path.dirname(outfile), { recursive: true });
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { buildSync } = require('esbuild') as typeof import('esbuild');
  buildSync({
    entryPoints: [entry],
    outfile: tmp,
    bundle: true,
    platform: 'node',
    target: 'node24',
    format: 'cjs',
    packages: 'external',
    logLevel: 'warning',
  });
  fs.renameSync(tmp, outfile);
  workerBundle = outfile;
  return outfile;
}

export interface EnginePoolOptions {
  /** Number of worker threads (default: number of CPUs, at most 4). */
  size?: number;
  root?: string;
}

export class EnginePool {
  private readonly slots: Slot[] = [];
  private readonly queue: Job[] = [];
  private nextId = 1;
  private closed = false;
  private readyPromise: Promise<void>;

  constructor(opts: EnginePoolOptions = {}) {
    const root = opts.root ?? findProjectRoot();
    const size = Math.max(1, opts.size ?? Math.min(4, os.cpus().length));
    const file = buildWorker(root);
    const readies: Promise<void>[] = [];
    for (let i = 0; i < size; i++) {
      const worker = new Worker(file, { workerData: { root } });
      const slot: Slot = { worker, busy: null, ready: false };
      this.slots.push(slot);
      readies.push(
        new Promise<void>((resolve, reject) => {
          worker.on('message', (msg: { ready?: boolean; error?: string; id?: number; result?: AnalyzeResult }) => {
            if (msg.ready !== undefined) {
              if (msg.ready) {
                slot.ready = true;
                resolve();
                this.pump();
              } else reject(new EngineError(`face engine failed to load: ${msg.error}`));
              return;
            }
            const job = slot.busy;
            slot.busy = null;
            if (job && job.id === msg.id) {
              if (msg.error !== undefined) job.reject(new EngineError(msg.error));
              else job.resolve(msg.result as AnalyzeResult);
            }
            this.pump();
          });
          worker.on('error', (err) => {
            reject(err);
            const job = slot.busy;
            slot.busy = null;
            job?.reject(err);
            // A dead worker takes no more jobs; with none left, queued requests fail instead of hanging.
            slot.ready = false;
            this.slots.splice(this.slots.indexOf(slot), 1);
            if (!this.slots.length) for (const j of this.queue.splice(0)) j.reject(new EngineError(`face engine crashed: ${err.message}`));
          });
        }),
      );
    }
    this.readyPromise = Promise.all(readies).then(() => undefined);
    this.readyPromise.catch(() => undefined);
  }

  get size(): number {
    return this.slots.length;
  }

  /** Resolves when every worker has loaded its models. */
  ready(): Promise<void> {
    return this.readyPromise;
  }

  /**
   * Queues one image. `urgent` jobs go before the queued non-urgent ones (FIFO among themselves): the
   * service marks SearchFacesByImage so, because a search usually finishes work a caller is waiting on (a
   * frame's record), while a DetectFaces starts new work. On AWS neither would queue behind the other.
   */
  analyze(image: Uint8Array, opts: AnalyzeOptions, urgent = false): Promise<AnalyzeResult> {
    if (this.closed) return Promise.reject(new EngineError('engine pool closed'));
    return new Promise<AnalyzeResult>((resolve, reject) => {
      const job: Job = { id: this.nextId++, image, opts, urgent, resolve, reject };
      const at = urgent ? this.queue.findIndex((j) => !j.urgent) : -1;
      if (at < 0) this.queue.push(job);
      else this.queue.splice(at, 0, job);
      this.pump();
    });
  }

  private pump(): void {
    for (const slot of this.slots) {
      if (!this.queue.length) return;
      if (!slot.ready || slot.busy) continue;
      const job = this.queue.shift() as Job;
      slot.busy = job;
      slot.worker.ref();
      slot.worker.postMessage({ id: job.id, image: job.image, opts: job.opts });
    }
    // Idle, loaded workers must not keep the process alive.
    for (const s of this.slots) if (s.ready && !s.busy) s.worker.unref();
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const job of this.queue.splice(0)) job.reject(new EngineError('engine pool closed'));
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
  }
}
