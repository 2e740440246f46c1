/**
 * Runs the local Kinesis Video Streams service on its own:
 *   npm run kinesis-video -- [--port 4567] [--data-dir .facewatch/kinesis-video] [--region us-east-1]
 *                            [--max-bytes 1073741824] [--live-decode on-demand|always|never]
 */
import { parseArgs } from 'node:util';
import { startKinesisVideoServer } from './server';

const { values: args } = parseArgs({
  options: {
    port: { type: 'string' },
    'data-dir': { type: 'string' },
    region: { type: 'string' },
    'max-bytes': { type: 'string' },
    'live-decode': { type: 'string' },
  },
});
const arg = (name: keyof typeof args): string | undefined => args[name];

async function main(): Promise<void> {
  const liveDecode = arg('live-decode') ?? 'on-demand';
  if (!['on-demand', 'always', 'never'].includes(liveDecode)) throw new Error('--live-decode must be on-demand, always or never');
  const server = await startKinesisVideoServer({
    port: Number(arg('port') ?? 4567),
    host: '127.0.0.1',
    dataDir: arg('data-dir') ?? '.facewatch/kinesis-video',
    region: arg('region') ?? process.env.AWS_REGION ?? 'us-east-1',
    maxBytes: arg('max-bytes') ? Number(arg('max-bytes')) : undefined,
    liveDecode: liveDecode as 'on-demand' | 'always' | 'never',
  });
  console.log(`kinesis-video listening on ${server.url} (data: ${arg('data-dir') ?? '.facewatch/kinesis-video'})`);
  const stop = (): void => {
    void server.close().then(() => process.exit(0));
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((e: unknown) => {
  console.error(`kinesis-video: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
});
