/**
 * Camera producer: ffmpeg reads a file (optionally looped), an RTSP URL or a V4L2 device, re-encodes to
 * H.264 (640 px wide by default, a keyframe every second, real time), and we stream the result to
 * PutMedia as one chunked, SigV4-signed HTTP POST, like AWS's producer SDK: frames are sent as soon as
 * they are encoded, one Cluster (= one KVS fragment) per keyframe, clusters of unknown size.
 */
import { spawn } from 'node:child_process';
import * as http from 'node:http';
import * as https from 'node:https';
import {
  ID,
  MkvStreamParser,
  uintElement,
  unknownSizeHeader,
  withRelativeTimecode,
  type TrackInfo,
} from './ebml';
import { ffmpegPath } from './frames';
import type { Ack } from './ingest';
import { signRequest, type Credentials } from './sigv4';

export type CameraSource = { file: string; loop?: boolean } | { rtsp: string } | { device: string };

export interface StreamCameraOptions {
  /** Base URL of the KVS data endpoint (PUT_MEDIA), e.g. http://127.0.0.1:4566. */
  endpoint: string;
  streamName?: string;
  streamArn?: string;
  source: CameraSource;
  region?: string;
  credentials?: Credentials;
  signal?: AbortSignal;
  /** Output width in pixels (height keeps the aspect ratio). Default 640. */
  width?: number;
  /** Output frame rate (default: the source's). */
  fps?: number;
  /** Seconds between keyframes = fragment length. Default 1. */
  keyframeIntervalSec?: number;
  /** Read the source at its native rate (ffmpeg -re). Default true; false streams a file as fast as possible. */
  realtime?: boolean;
  /** Stop after this many seconds of video (ffmpeg -t). */
  durationSec?: number;
  onAck?: (ack: Ack) => void;
  log?: (line: string) => void;
}

export interface StreamCameraResult {
  /** Epoch ms sent as x-amzn-producer-start-timestamp. */
  producerStartMs: number;
  persisted: number;
  errors: Ack[];
  bytesSent: number;
  /** ffmpeg's exit code (null when killed on abort). */
  ffmpegExitCode: number | null;
}

export function ffmpegArgs(options: Pick<StreamCameraOptions, 'source' | 'width' | 'fps' | 'keyframeIntervalSec' | 'realtime' | 'durationSec'>): string[] {
  const src = options.source;
  const input: string[] = [];
  if ('file' in src) {
    if (options.realtime !== false) input.push('-re');
    if (src.loop) input.push('-stream_loop', '-1');
    input.push('-i', src.file);
  } else if ('rtsp' in src) {
    input.push('-rtsp_transport', 'tcp', '-i', src.rtsp);
  } else {
    input.push('-f', 'v4l2', '-i', src.device);
  }
  const k = options.keyframeIntervalSec ?? 1;
  const width = options.width ?? 640;
  return [
    '-hide_banner', '-nostdin', '-loglevel', 'error',
    ...input,
    ...(options.durationSec ? ['-t', String(options.durationSec)] : []),
    '-an', '-map', '0:v:0',
    '-vf', `scale=${width}:-2`,
    ...(options.fps ? ['-r', String(options.fps)] : []),
    '-pix_fmt', 'yuv420p',
    '-c:v', 'libx264', '-preset', 'veryfast', '-tune', 'zerolatency',
    '-force_key_frames', `expr:gte(t,n_forced*${k})`, '-sc_threshold', '0',
    // one cluster per frame, flushed at once: we regroup them per keyframe below
    '-f', 'matroska', '-live', '1', '-cluster_time_limit', '0', '-flush_packets', '1',
    'pipe:1',
  ];
}

/**
 * Rewrites ffmpeg's MKV (a cluster per frame) into a KVS-style live MKV: the header once, then a
 * Cluster of unknown size per keyframe holding the following frames. Calls out(bytes) as frames arrive.
 */
export class KvsRemuxer {
  private readonly parser: MkvStreamParser;
  private ebml?: Buffer;
  private info?: Buffer;
  private video?: TrackInfo;
  private headerSent = false;
  private clusterTc?: number; // input cluster timecode
  private outTc?: number; // current output cluster timecode
  /** Timecode (ms, default scale) of the first frame written. */
  firstTimecodeMs?: number;

  constructor(private readonly out: (bytes: Buffer, firstFrame: boolean) => void) {
    this.parser = new MkvStreamParser({
      header: (raw) => {
        this.ebml = raw;
      },
      info: (raw) => {
        this.info = raw;
      },
      tracks: (raw, tracks) => {
        this.video = tracks.find((t) => t.type === 1);
        this.headerBuf = Buffer.concat([this.ebml ?? Buffer.alloc(0), unknownSizeHeader(ID.Segment), this.info ?? Buffer.alloc(0), raw]);
      },
      clusterChild: (child) => {
        if (child.kind === 'timecode') {
          this.clusterTc = child.timecode;
          return;
        }
        if (child.kind !== 'block' || this.clusterTc === undefined) return;
        if (this.video && child.block.track !== this.video.number) return;
        const abs = this.clusterTc + child.block.relativeTimecode;
        const parts: Buffer[] = [];
        let first = false;
        if (!this.headerSent) {
          if (!child.block.keyframe || !this.headerBuf) return; // start on a keyframe
          parts.push(this.headerBuf);
          this.headerSent = true;
          this.firstTimecodeMs = abs;
          first = true;
        }
        if (child.block.keyframe || this.outTc === undefined || abs - this.outTc > 32000) {
          this.outTc = abs;
          parts.push(unknownSizeHeader(ID.Cluster), uintElement(ID.Timecode, abs));
        }
        parts.push(withRelativeTimecode(child, abs - this.outTc));
        this.out(Buffer.concat(parts), first);
      },
    });
  }

  private headerBuf?: Buffer;

  push(chunk: Buffer): void {
    this.parser.push(chunk);
  }
}

/** Streams a camera (or a file) to PutMedia until the source ends or the signal aborts. */
export function streamCamera(options: StreamCameraOptions): Promise<StreamCameraResult> {
  if (!options.streamName && !options.streamArn) return Promise.reject(new Error('streamName or streamArn is required'));
  const log = options.log ?? (() => undefined);
  return new Promise<StreamCameraResult>((resolve, reject) => {
    const result: StreamCameraResult = { producerStartMs: 0, persisted: 0, errors: [], bytesSent: 0, ffmpegExitCode: null };
    const proc = spawn(ffmpegPath(), ffmpegArgs(options), { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    proc.stderr.setEncoding('utf8');
    proc.stderr.on('data', (d: string) => {
      stderr = (stderr + d).slice(-4000);
      log(d.trimEnd());
    });
    let req: http.ClientRequest | undefined;
    let settled = false;
    let ffmpegDone = false;
    let responseDone = false;
    const finish = (err?: Error): void => {
      if (settled) return;
      if (err) {
        settled = true;
        proc.kill('SIGKILL');
        req?.destroy();
        reject(err);
        return;
      }
      if (ffmpegDone && (responseDone || !req)) {
        settled = true;
        resolve(result);
      }
    };

    const openRequest = (startMs: number): http.ClientRequest => {
      const url = new URL('/putMedia', options.endpoint);
      const base: Record<string, string> = {
        'x-amzn-fragment-timecode-type': 'RELATIVE',
        'x-amzn-producer-start-timestamp': (startMs / 1000).toFixed(3),
        'user-agent': 'facewatch-camera',
        'transfer-encoding': 'chunked',
      };
      if (options.streamArn) base['x-amzn-stream-arn'] = options.streamArn;
      else base['x-amzn-stream-name'] = options.streamName as string;
      const { 'transfer-encoding': te, ...toSign } = base;
      const headers = {
        ...signRequest({
          method: 'POST',
          url: url.toString(),
          headers: toSign,
          region: options.region ?? process.env.AWS_REGION ?? 'us-east-1',
          service: 'kinesisvideo',
          credentials: options.credentials ?? {
            accessKeyId: process.env.AWS_ACCESS_KEY_ID ?? 'local',
            secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY ?? 'local',
            sessionToken: process.env.AWS_SESSION_TOKEN,
          },
        }),
        'transfer-encoding': te,
      };
      const client = url.protocol === 'https:' ? https : http;
      const r = client.request(url, { method: 'POST', headers });
      r.on('response', (res) => {
        if (res.statusCode !== 200) {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (d: string) => (body += d));
          res.on('end', () => finish(new Error(`PutMedia failed: HTTP ${res.statusCode} ${res.headers['x-amzn-errortype'] ?? ''} ${body}`)));
          return;
        }
        let rest = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => {
          const lines = (rest + d).split('\n');
          rest = lines.pop() ?? '';
          for (const line of lines) {
            if (!line.trim()) continue;
            let ack: Ack;
            try {
              ack = JSON.parse(line) as Ack;
            } catch {
              continue;
            }
            if (ack.EventType === 'PERSISTED') result.persisted++;
            if (ack.EventType === 'ERROR') result.errors.push(ack);
            options.onAck?.(ack);
          }
        });
        res.on('end', () => {
          responseDone = true;
          finish();
        });
        res.on('error', (e) => finish(e));
      });
      r.on('error', (e) => finish(e));
      return r;
    };

    const remux = new KvsRemuxer((bytes, first) => {
      if (first) {
        // producer start = wall clock of the first frame minus its timecode
        result.producerStartMs = Date.now() - (remux.firstTimecodeMs ?? 0);
        req = openRequest(result.producerStartMs);
      }
      if (!req || req.destroyed) return;
      result.bytesSent += bytes.length;
      if (!req.write(bytes)) {
        proc.stdout.pause();
        req.once('drain', () => proc.stdout.resume());
      }
    });
    proc.stdout.on('data', (d: Buffer) => {
      try {
        remux.push(d);
      } catch (e) {
        finish(e as Error);
      }
    });
    proc.on('error', (e) => finish(e));
    proc.on('close', (code) => {
      result.ffmpegExitCode = code;
      ffmpegDone = true;
      if (code !== 0 && !options.signal?.aborted && !req) {
        finish(new Error(`ffmpeg exited with ${code}: ${stderr.slice(-1000)}`));
        return;
      }
      req?.end();
      finish();
    });
    const onAbort = (): void => {
      proc.kill('SIGTERM');
      setTimeout(() => proc.kill('SIGKILL'), 2000).unref();
    };
    if (options.signal?.aborted) onAbort();
    else options.signal?.addEventListener('abort', onAbort, { once: true });
  });
}

