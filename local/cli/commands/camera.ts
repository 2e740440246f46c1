import type { Command } from 'commander';
import { CreateStreamCommand, GetDataEndpointCommand, KinesisVideoClient } from '@aws-sdk/client-kinesis-video';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { CliError, type CliContext } from '../context';
import { streamCamera, type CameraSource } from '../../kinesis-video/camera';

interface CameraOptions {
  stream: string;
  file?: string;
  loop?: boolean;
  rtsp?: string;
  device?: string;
  endpoint?: string;
  width: string;
  fps?: string;
  createStream?: boolean;
  quiet?: boolean;
}

/** Where the camera pushes: the SDK asks GetDataEndpoint (PUT_MEDIA), as against AWS. */
async function putMediaEndpoint(client: KinesisVideoClient, stream: string, create: boolean): Promise<string> {
  try {
    return (await client.send(new GetDataEndpointCommand({ StreamName: stream, APIName: 'PUT_MEDIA' }))).DataEndpoint as string;
  } catch (error) {
    if ((error as Error).name !== 'ResourceNotFoundException') throw error;
    if (!create) throw new CliError(`Video stream "${stream}" does not exist: create it, or pass --create-stream.`);
    await client.send(new CreateStreamCommand({ StreamName: stream, DataRetentionInHours: 1, MediaType: 'video/h264' }));
    return (await client.send(new GetDataEndpointCommand({ StreamName: stream, APIName: 'PUT_MEDIA' }))).DataEndpoint as string;
  }
}

export function registerCameraCommand(program: Command, context: () => CliContext): void {
  program
    .command('camera')
    .description('stream a video file, an RTSP camera or a local webcam into a Kinesis video stream (H.264, 1 s fragments, real time)')
    .requiredOption('--stream <name>', 'Kinesis video stream name')
    .option('--file <video>', 'a video file to play as a camera')
    .option('--loop', 'loop the file forever')
    .option('--rtsp <url>', 'an RTSP camera URL')
    .option('--device <path>', 'a V4L2 device, e.g. /dev/video0')
    .option('--endpoint <url>', 'Kinesis Video endpoint (default: AWS_ENDPOINT_URL, else http://127.0.0.1:4566)')
    .option('--width <px>', 'output width', '640')
    .option('--fps <n>', 'output frame rate (default: the source rate)')
    .option('--create-stream', 'create the stream (1 h retention) if it does not exist')
    .option('-q, --quiet', 'do not print an acknowledgement line per fragment')
    .action(async (options: CameraOptions) => {
      const sources = [options.file, options.rtsp, options.device].filter(Boolean);
      if (sources.length !== 1) throw new CliError('Give exactly one source: --file <video> [--loop], --rtsp <url> or --device <path>.');
      const source: CameraSource = options.file
        ? { file: options.file, loop: !!options.loop }
        : options.rtsp
          ? { rtsp: options.rtsp }
          : { device: options.device as string };
      const ctx = context();
      const endpoint = options.endpoint ?? process.env.AWS_ENDPOINT_URL ?? ctx.endpoint ?? 'http://127.0.0.1:4566';
      const client = new KinesisVideoClient({ endpoint, region: ctx.region, credentials: ctx.credentials, requestHandler: new NodeHttpHandler() });
      let dataEndpoint: string;
      try {
        dataEndpoint = await putMediaEndpoint(client, options.stream, !!options.createStream);
      } catch (error) {
        if (error instanceof CliError) throw error;
        throw new CliError(`Cannot reach Kinesis Video at ${endpoint} (${(error as Error).message}): is the stack running?`);
      }
      const abort = new AbortController();
      process.once('SIGINT', () => abort.abort());
      process.once('SIGTERM', () => abort.abort());
      console.log(`Streaming ${options.file ?? options.rtsp ?? options.device} to ${options.stream} via ${dataEndpoint} (Ctrl-C to stop)…`);
      const result = await streamCamera({
        endpoint: dataEndpoint,
        streamName: options.stream,
        source,
        region: ctx.region,
        credentials: ctx.credentials,
        signal: abort.signal,
        width: Number(options.width),
        fps: options.fps ? Number(options.fps) : undefined,
        onAck: (ack) => {
          if (ack.EventType === 'ERROR') console.error(`fragment ${ack.FragmentNumber ?? '?'}: ERROR ${ack.ErrorId} ${ack.ErrorCode ?? ''}`);
          else if (ack.EventType === 'PERSISTED' && !options.quiet) console.log(`fragment ${ack.FragmentNumber} persisted (timecode ${ack.FragmentTimecode})`);
        },
      });
      console.log(`Done: ${result.persisted} fragments persisted, ${result.errors.length} errors, ${(result.bytesSent / 1e6).toFixed(1)} MB sent.`);
      if (result.errors.length) process.exitCode = 1;
    });
}
