/**
 * Which sampled frames of a camera's video got no face-search record: what a processor that died, or skipped
 * ahead, lost. The processor samples the stream every `intervalMs` on one grid per session (its cursor only ever
 * moves by whole intervals: `gridMs` is any sample time of it, e.g. the state's `cursorMs`), on the server's
 * clock (SERVER_TIMESTAMP). A sample time that falls in a fragment (each fragment spans
 * [ServerTimestamp, + its length) on that clock; fragments arrive with small holes between them) shows the last
 * frame at or before it, so its record's frame time is within a frame before the sample time; a sample time in
 * no fragment has no media and no record. Each expected sample without its record is a lost frame.
 * Used by the processor recovery test and by `npm run test:faults`.
 */
import { KinesisVideoClient } from '@aws-sdk/client-kinesis-video';
import { KinesisVideoArchivedMediaClient } from '@aws-sdk/client-kinesis-video-archived-media';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { KinesisVideoFrames } from '../../shared/adapters/kinesis-video-frames';
import type { FaceSearchRecord } from '../../shared/domain/face-search-record';

export interface Coverage {
  /** Sample times that fell on video, analysed or not. */
  expected: number;
  /** Of those, the ones with a record. */
  analysed: number;
  missing: number;
  /** Where frames were lost (sample times on the server clock, epoch ms). */
  gaps: { fromMs: number; toMs: number; frames: number }[];
}

export interface VideoFragmentSpan {
  serverStartMs: number;
  durationMs: number;
}

/** The frame's time on the server's clock (what SERVER_TIMESTAMP samples by), epoch ms. */
export const serverFrameMs = (record: FaceSearchRecord) =>
  Math.round((record.InputInformation.KinesisVideo.ServerTimestamp + record.InputInformation.KinesisVideo.FrameOffsetInSeconds) * 1000);

/** A record's frame, for counting the same frame written twice. */
export const frameKey = (record: FaceSearchRecord) => `${record.InputInformation.KinesisVideo.FragmentNumber}/${record.InputInformation.KinesisVideo.FrameOffsetInSeconds}`;

/** The sample times of the grid through `gridMs` that fall on video, from `fromMs` on, in order. */
export function expectedSampleTimes(fragments: readonly VideoFragmentSpan[], options: { intervalMs: number; gridMs: number; fromMs?: number; toMs?: number }): number[] {
  const { intervalMs: iv, gridMs } = options;
  const times = new Set<number>();
  for (const f of fragments) {
    const from = Math.max(f.serverStartMs, options.fromMs ?? -Infinity);
    const to = Math.min(f.serverStartMs + f.durationMs, options.toMs ?? Infinity);
    for (let t = gridMs + Math.ceil((from - gridMs) / iv) * iv; t < to; t += iv) times.add(t);
  }
  return [...times].sort((a, b) => a - b);
}

export function frameCoverage(
  frameTimesMs: readonly number[],
  fragments: readonly VideoFragmentSpan[],
  options: { intervalMs: number; frameMs: number; gridMs: number; fromMs?: number; toMs?: number },
): Coverage {
  const expected = expectedSampleTimes(fragments, options);
  const frames = [...new Set(frameTimesMs)].sort((a, b) => a - b);
  const result: Coverage = { expected: expected.length, analysed: 0, missing: 0, gaps: [] };
  // Timestamps are written in seconds with 3 decimals: a millisecond either way.
  const slack = 2;
  let i = 0;
  let gap: Coverage['gaps'][number] | undefined;
  for (const t of expected) {
    while (i < frames.length && frames[i] <= t - options.frameMs - slack) i++;
    if (i < frames.length && frames[i] <= t + slack) {
      result.analysed += 1;
      gap = undefined;
      continue;
    }
    result.missing += 1;
    if (gap) Object.assign(gap, { toMs: t, frames: gap.frames + 1 });
    else result.gaps.push((gap = { fromMs: t, toMs: t, frames: 1 }));
  }
  return result;
}

/** The fragments a stream holds between two times, read as the processor reads them (any credentials of the local stack). */
export async function listVideoFragments(
  stack: { endpoint: string; region: string; credentials: { accessKeyId: string; secretAccessKey: string } },
  streamName: string,
  fromMs: number,
  toMs: number,
): Promise<{ serverStartMs: number; durationMs: number }[]> {
  const config = { region: stack.region, endpoint: stack.endpoint, credentials: stack.credentials, requestHandler: new NodeHttpHandler() };
  const frames = new KinesisVideoFrames(new KinesisVideoClient(config), (endpoint) => new KinesisVideoArchivedMediaClient({ ...config, endpoint }), { streamName });
  return frames.listFragments(fromMs, toMs);
}
