import { DescribeStreamCommand, GetDataEndpointCommand, type APIName, type KinesisVideoClient } from '@aws-sdk/client-kinesis-video';
import {
  GetImagesCommand,
  ListFragmentsCommand,
  type KinesisVideoArchivedMediaClient,
} from '@aws-sdk/client-kinesis-video-archived-media';
import type { TimestampDomain, VideoFragment } from '../domain/frame-analysis';
import type { FrameSource, SampledFrame } from '../use-cases/processor-ports';

export interface KinesisVideoFramesOptions {
  streamName: string;
  /** Which clock selects fragments and images. SERVER_TIMESTAMP (default) does not trust the camera's clock. */
  domain?: TimestampDomain;
  /** JPEG quality GetImages encodes with (AWS's default is 80). */
  jpegQuality?: number;
}

/**
 * Frames of one camera's Kinesis Video stream: GetDataEndpoint once per API, then ListFragments and GetImages
 * (archived media, paginated) at those endpoints.
 */
export class KinesisVideoFrames implements FrameSource {
  readonly domain: TimestampDomain;
  private arn?: Promise<string>;
  private readonly clients = new Map<APIName, Promise<KinesisVideoArchivedMediaClient>>();

  constructor(
    private readonly control: KinesisVideoClient,
    private readonly archivedMediaAt: (endpoint: string) => KinesisVideoArchivedMediaClient,
    private readonly options: KinesisVideoFramesOptions,
  ) {
    this.domain = options.domain ?? 'SERVER_TIMESTAMP';
  }

  streamArn(): Promise<string> {
    this.arn ??= this.control.send(new DescribeStreamCommand({ StreamName: this.options.streamName })).then((r) => {
      if (!r.StreamInfo?.StreamARN) throw new Error(`DescribeStream gave no ARN for stream ${this.options.streamName}`);
      return r.StreamInfo.StreamARN;
    });
    this.arn.catch(() => (this.arn = undefined));
    return this.arn;
  }

  async listFragments(fromMs: number, toMs: number): Promise<VideoFragment[]> {
    const client = await this.client('LIST_FRAGMENTS');
    const fragments: VideoFragment[] = [];
    let nextToken: string | undefined;
    do {
      const page = await client.send(
        new ListFragmentsCommand({
          StreamName: this.options.streamName,
          MaxResults: 1000,
          ...(nextToken
            ? { NextToken: nextToken }
            : {
                FragmentSelector: {
                  FragmentSelectorType: this.domain,
                  TimestampRange: { StartTimestamp: new Date(fromMs), EndTimestamp: new Date(toMs) },
                },
              }),
        }),
      );
      for (const f of page.Fragments ?? []) {
        if (!f.FragmentNumber || !f.ProducerTimestamp || !f.ServerTimestamp) continue;
        fragments.push({
          fragmentNumber: f.FragmentNumber,
          producerStartMs: f.ProducerTimestamp.getTime(),
          serverStartMs: f.ServerTimestamp.getTime(),
          durationMs: f.FragmentLengthInMilliseconds ?? 0,
        });
      }
      nextToken = page.NextToken;
    } while (nextToken);
    return fragments;
  }

  async getFrames(fromMs: number, toMs: number, intervalMs: number): Promise<SampledFrame[]> {
    const client = await this.client('GET_IMAGES');
    const frames: SampledFrame[] = [];
    let nextToken: string | undefined;
    do {
      const page = await client.send(
        new GetImagesCommand({
          StreamName: this.options.streamName,
          ImageSelectorType: this.domain,
          StartTimestamp: new Date(fromMs),
          EndTimestamp: new Date(toMs),
          SamplingInterval: intervalMs,
          Format: 'JPEG',
          ...(this.options.jpegQuality ? { FormatConfig: { JPEGQuality: String(this.options.jpegQuality) } } : {}),
          MaxResults: 25,
          NextToken: nextToken,
        }),
      );
      for (const image of page.Images ?? []) {
        if (!image.TimeStamp) continue;
        frames.push({
          timestampMs: image.TimeStamp.getTime(),
          ...(image.ImageContent ? { image: Buffer.from(image.ImageContent, 'base64') } : {}),
          ...(image.Error ? { error: image.Error } : {}),
        });
      }
      nextToken = page.NextToken;
    } while (nextToken);
    return frames.sort((a, b) => a.timestampMs - b.timestampMs);
  }

  private client(api: APIName): Promise<KinesisVideoArchivedMediaClient> {
    let client = this.clients.get(api);
    if (!client) {
      client = this.control.send(new GetDataEndpointCommand({ StreamName: this.options.streamName, APIName: api })).then((r) => {
        if (!r.DataEndpoint) throw new Error(`GetDataEndpoint gave no endpoint for ${api} on stream ${this.options.streamName}`);
        return this.archivedMediaAt(r.DataEndpoint);
      });
      // A failed lookup is retried on the next call rather than cached.
      client.catch(() => this.clients.delete(api));
      this.clients.set(api, client);
    }
    return client;
  }
}
