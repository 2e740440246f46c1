import { KinesisVideoClient } from '@aws-sdk/client-kinesis-video';
import { KinesisVideoArchivedMediaClient } from '@aws-sdk/client-kinesis-video-archived-media';
import { clientOptions } from './options';

/** Control plane (DescribeStream, GetDataEndpoint). */
export const kinesisVideo = new KinesisVideoClient(clientOptions);

/** Archived media (GetImages, ListFragments) lives at the stream's data endpoint, which GetDataEndpoint gives. */
export const archivedMediaAt = (endpoint: string): KinesisVideoArchivedMediaClient =>
  new KinesisVideoArchivedMediaClient({ ...clientOptions, endpoint });
