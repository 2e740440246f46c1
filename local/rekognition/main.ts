/**
 * Standalone local Rekognition: `npm run rekognition -- --port 4570 --data-dir .facewatch/rekognition
 * --s3-endpoint http://127.0.0.1:4569`. Binds 127.0.0.1 only.
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { startRekognitionServer } from './server';

const { values: args } = parseArgs({
  options: {
    port: { type: 'string' },
    'data-dir': { type: 'string' },
    's3-endpoint': { type: 'string' },
    region: { type: 'string' },
    workers: { type: 'string' },
  },
});
const arg = (name: keyof typeof args): string | undefined => args[name];

async function main(): Promise<void> {
  const port = Number(arg('port') ?? process.env.REKOGNITION_PORT ?? 4570);
  const dataDir = path.resolve(arg('data-dir') ?? '.facewatch/rekognition');
  const s3Endpoint = arg('s3-endpoint') ?? process.env.S3_ENDPOINT;
  const region = arg('region') ?? process.env.AWS_REGION ?? 'us-east-1';
  const workers = arg('workers') ? Number(arg('workers')) : undefined;
  const started = Date.now();
  const server = await startRekognitionServer({ port, host: '127.0.0.1', dataDir, s3Endpoint, region, workers });
  console.log(`local Rekognition on ${server.url} (data ${dataDir}, s3 ${s3Endpoint ?? 'none'}, models loaded in ${Date.now() - started} ms)`);
  const stop = async () => {
    await server.close();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop());
  process.on('SIGTERM', () => void stop());
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
