/**
 * The local Rekognition (local/rekognition) for integration tests: on 127.0.0.1, a throw-away data folder,
 * reading S3 objects from the harness's s3rver; AWS_ENDPOINT_URL_REKOGNITION points the SDK at it.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CreateCollectionCommand, RekognitionClient } from '@aws-sdk/client-rekognition';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { startRekognitionServer, type RunningRekognition } from '../../local/rekognition/server';
import type { StreamProcessorRunner } from '../../local/rekognition/stream-processors';
import { LOCAL_REGION } from './local-aws';

export interface LocalRekognition {
  server: RunningRekognition;
  client: RekognitionClient;
  stop(): Promise<void>;
}

export async function startLocalRekognition(options: { s3Endpoint?: string; warmUp?: boolean; runner?: StreamProcessorRunner } = {}): Promise<LocalRekognition> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'facewatch-rekognition-'));
  const server = await startRekognitionServer({
    host: '127.0.0.1',
    port: 0,
    dataDir,
    region: LOCAL_REGION,
    s3Endpoint: options.s3Endpoint,
    warmUp: options.warmUp ?? true,
    workers: 1,
    ...(options.runner ? { runner: options.runner } : {}),
  });
  const previous = process.env.AWS_ENDPOINT_URL_REKOGNITION;
  process.env.AWS_ENDPOINT_URL_REKOGNITION = server.url;
  const client = new RekognitionClient({
    region: LOCAL_REGION,
    endpoint: server.url,
    credentials: { accessKeyId: process.env.AWS_ACCESS_KEY_ID ?? 'local', secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY ?? 'local' },
    requestHandler: new NodeHttpHandler(),
  });
  return {
    server,
    client,
    async stop() {
      client.destroy();
      await server.close();
      if (previous === undefined) delete process.env.AWS_ENDPOINT_URL_REKOGNITION;
      else process.env.AWS_ENDPOINT_URL_REKOGNITION = previous;
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export async function createCollection(client: RekognitionClient, collectionId: string): Promise<void> {
  await client.send(new CreateCollectionCommand({ CollectionId: collectionId }));
}
