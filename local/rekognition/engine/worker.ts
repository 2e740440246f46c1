/** Worker-thread entry: owns one FaceEngine and answers analyze requests from the pool. */
import { parentPort, workerData } from 'node:worker_threads';
import { FaceEngine } from './engine';
import type { AnalyzeOptions } from './types';

interface Request {
  id: number;
  image: Uint8Array;
  opts: AnalyzeOptions;
}

const engine = new FaceEngine((workerData as { root?: string } | undefined)?.root);
engine.load().then(
  () => parentPort?.postMessage({ ready: true }),
  (err: Error) => parentPort?.postMessage({ ready: false, error: err.stack ?? String(err) }),
);

parentPort?.on('message', (msg: Request) => {
  engine.analyze(msg.image, msg.opts).then(
    (result) => parentPort?.postMessage({ id: msg.id, result }),
    (err: Error) => parentPort?.postMessage({ id: msg.id, error: err.message ?? String(err) }),
  );
});
