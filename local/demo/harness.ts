/**
 * What the demo, the video e2e tests and the latency benchmark do to a running local stack, only through what
 * a user has: the REST API with its token, the single AWS endpoint, and the outbox of published alerts.
 */
import fs from 'node:fs';
import path from 'node:path';
import { RekognitionClient, SearchFacesByImageCommand } from '@aws-sdk/client-rekognition';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { streamCamera, type StreamCameraResult } from '../kinesis-video/camera';

export interface StackHandle {
  endpoint: string;
  apiUrl: string;
  token: string;
  /** The stack's data dir (holds outbox/). */
  dataDir: string;
  region?: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
}

export interface ProcessorView {
  camera: string;
  name: string;
  mode: string;
  state: string;
  statusMessage?: string;
  videoStream: { name?: string; arn?: string };
  dataStream: { name?: string; arn?: string };
  settings: { collectionId?: string; faceMatchThreshold?: number };
}

export interface SightingItem {
  sightingId: string;
  personId: string;
  camera: string;
  seenAt: string;
  similarity?: number;
  snapshotUrl?: string;
  visitorId?: string;
}

export interface VisitorItem {
  visitorId: string;
  visits: number;
  firstSeenAt: string;
  lastSeenAt: string;
  lastSeenCamera: string;
  faces: number;
  snapshotKey?: string;
  snapshotUrl?: string;
}

export interface PersonItem {
  personId: string;
  displayName: string;
  faces: { faceId: string; photoKey: string }[];
  rejectedPhotos: { photoKey: string; reason: string; message: string }[];
}

export interface OutboxAlert {
  file: string;
  /** When the local SNS accepted the publish (epoch ms). */
  publishedMs: number;
  subject?: string;
  sms: string;
  email: string;
  person?: string;
  camera?: string;
  kind?: string;
  sightingId?: string;
  seenAt?: string;
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export class StackClient {
  readonly s3: S3Client;
  readonly rekognition: RekognitionClient;

  constructor(readonly stack: StackHandle) {
    const config = { region: stack.region ?? 'us-east-1', endpoint: stack.endpoint, credentials: stack.credentials, requestHandler: new NodeHttpHandler() };
    this.s3 = new S3Client({ ...config, forcePathStyle: true, requestChecksumCalculation: 'WHEN_REQUIRED' });
    this.rekognition = new RekognitionClient(config);
  }

  async api<T = any>(method: 'GET' | 'POST' | 'PATCH' | 'DELETE', pathAndQuery: string, request?: unknown): Promise<T> {
    const response = await fetch(`${this.stack.apiUrl}${pathAndQuery}`, {
      method,
      headers: { authorization: `Bearer ${this.stack.token}`, ...(request !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(request !== undefined ? { body: JSON.stringify(request) } : {}),
    });
    const body = (await response.json().catch(() => ({}))) as any;
    if (!response.ok) throw new Error(`${method} ${pathAndQuery} → HTTP ${response.status}: ${body?.error?.message ?? JSON.stringify(body)}`);
    return body as T;
  }

  async processor(camera: string): Promise<ProcessorView> {
    const { processors } = await this.api<{ processors: ProcessorView[] }>('GET', `/processor?camera=${encodeURIComponent(camera)}`);
    return processors[0];
  }

  async startProcessor(camera: string): Promise<ProcessorView> {
    await this.api('POST', `/processor/start?camera=${encodeURIComponent(camera)}`);
    return this.waitForState(camera, ['RUNNING']);
  }

  async stopProcessor(camera: string): Promise<ProcessorView> {
    await this.api('POST', `/processor/stop?camera=${encodeURIComponent(camera)}`);
    return this.waitForState(camera, ['STOPPED', 'FAILED']);
  }

  async waitForState(camera: string, states: string[], timeoutMs = 60_000): Promise<ProcessorView> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const p = await this.processor(camera);
      if (states.includes(p.state)) return p;
      if (p.state === 'FAILED') throw new Error(`The ${camera} processor failed: ${p.statusMessage ?? 'no reason given'}`);
      if (Date.now() > deadline) throw new Error(`The ${camera} processor is still ${p.state} after ${timeoutMs / 1000} s (waiting for ${states.join('/')})`);
      await sleep(250);
    }
  }

  async people(): Promise<PersonItem[]> {
    const all: PersonItem[] = [];
    let cursor: string | undefined;
    do {
      const page = await this.api<{ people: PersonItem[]; nextCursor?: string }>('GET', `/people?limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      all.push(...page.people);
      cursor = page.nextCursor;
    } while (cursor);
    return all;
  }

  /** Uploads a photo to faces/<name>/<file> in the faces bucket; the indexer registers it. */
  async uploadFace(bucket: string, name: string, file: string, bytes: Buffer): Promise<string> {
    const key = `faces/${name}/${file}`;
    await this.s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: bytes, ContentType: 'image/jpeg' }));
    return key;
  }

  /** Waits until `name` is registered with the photo `key` indexed; a refused photo is an error saying why. */
  async waitForFace(name: string, key: string, timeoutMs = 60_000): Promise<PersonItem> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const person = (await this.people()).find((p) => p.displayName === name);
      if (person?.faces.some((f) => f.photoKey === key)) return person;
      const refused = person?.rejectedPhotos.find((r) => r.photoKey === key);
      if (refused) throw new Error(`The photo ${key} was refused (${refused.reason}): ${refused.message}`);
      if (Date.now() > deadline) throw new Error(`${key} was not indexed within ${timeoutMs / 1000} s (see the indexFace log in ${this.stack.dataDir}/logs/)`);
      await sleep(300);
    }
  }

  /** Every sighting of the camera since `since`, oldest first. */
  async sightings(camera: string, since: Date): Promise<SightingItem[]> {
    const all: SightingItem[] = [];
    let cursor: string | undefined;
    do {
      const page = await this.api<{ sightings: SightingItem[]; nextCursor?: string }>(
        'GET',
        `/sightings?camera=${encodeURIComponent(camera)}&since=${encodeURIComponent(since.toISOString())}&limit=500${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
      );
      all.push(...page.sightings);
      cursor = page.nextCursor;
    } while (cursor);
    return all.sort((a, b) => a.seenAt.localeCompare(b.seenAt) || a.sightingId.localeCompare(b.sightingId));
  }

  /** Recurring unknown visitors, last seen first (every page). */
  async visitors(): Promise<VisitorItem[]> {
    const all: VisitorItem[] = [];
    let cursor: string | undefined;
    do {
      const page = await this.api<{ visitors: VisitorItem[]; nextCursor?: string }>('GET', `/visitors?limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      all.push(...page.visitors);
      cursor = page.nextCursor;
    } while (cursor);
    return all;
  }

  /** The best matches of the largest face of `image` in the collection (threshold 0: every score is shown). */
  async search(collectionId: string, image: Buffer): Promise<{ faceId: string; externalImageId?: string; similarity: number }[]> {
    const out = await this.rekognition.send(new SearchFacesByImageCommand({ CollectionId: collectionId, Image: { Bytes: image }, FaceMatchThreshold: 0, MaxFaces: 10 }));
    return (out.FaceMatches ?? []).map((m) => ({ faceId: m.Face!.FaceId!, externalImageId: m.Face!.ExternalImageId, similarity: m.Similarity ?? 0 }));
  }

  /** Streams a video file into the camera's Kinesis video stream in real time (the `facewatch camera` path). */
  streamFile(videoStream: string, file: string, signal?: AbortSignal): Promise<StreamCameraResult> {
    return streamCamera({
      endpoint: this.stack.endpoint,
      streamName: videoStream,
      source: { file },
      region: this.stack.region ?? 'us-east-1',
      credentials: this.stack.credentials,
      signal,
    });
  }
}

/** Reads the alerts published since `sinceMs` from the stack's outbox (one JSON file per published message). */
export class OutboxWatcher {
  private readonly seen = new Set<string>();
  constructor(
    private readonly dir: string,
    private readonly sinceMs: number,
  ) {}

  /** Alerts not returned before, oldest first. */
  poll(): OutboxAlert[] {
    if (!fs.existsSync(this.dir)) return [];
    const fresh: OutboxAlert[] = [];
    for (const file of fs.readdirSync(this.dir).sort()) {
      if (this.seen.has(file) || !file.endsWith('.json')) continue;
      let published: { Timestamp: string; Subject?: string; Message: string; MessageStructure?: string; MessageAttributes?: Record<string, { StringValue?: string; Value?: string }> };
      try {
        published = JSON.parse(fs.readFileSync(path.join(this.dir, file), 'utf8'));
      } catch {
        continue; // still being written: next poll
      }
      this.seen.add(file);
      const publishedMs = Date.parse(published.Timestamp);
      if (publishedMs < this.sinceMs) continue;
      const texts = published.MessageStructure === 'json' ? (JSON.parse(published.Message) as Record<string, string>) : { default: published.Message };
      let machine: { sightingId?: string; seenAt?: string } = {};
      try {
        machine = JSON.parse(texts.sqs ?? '{}');
      } catch {
        // not a facewatch sighting alert
      }
      const attr = (name: string) => published.MessageAttributes?.[name]?.StringValue ?? published.MessageAttributes?.[name]?.Value;
      fresh.push({
        file,
        publishedMs,
        subject: published.Subject,
        sms: texts.sms ?? texts.default ?? '',
        email: texts.email ?? texts.default ?? '',
        person: attr('person'),
        camera: attr('camera'),
        kind: attr('kind'),
        sightingId: machine.sightingId,
        seenAt: machine.seenAt,
      });
    }
    return fresh.sort((a, b) => a.publishedMs - b.publishedMs);
  }
}

/** The ARNs of a processor's streams, from the stack's resources (the self mode's API answer names them only). */
export function streamArns(resources: Record<string, { type: string; ref: string; attributes: Record<string, string> }>, processor: ProcessorView): { video: string; data: string } {
  const arnOf = (type: string, name?: string) => {
    const found = Object.values(resources).find((r) => r.type === type && r.ref === name);
    if (!found?.attributes.Arn) throw new Error(`No ${type} named ${name} in the stack`);
    return found.attributes.Arn;
  };
  return { video: processor.videoStream.arn ?? arnOf('AWS::KinesisVideo::Stream', processor.videoStream.name), data: processor.dataStream.arn ?? arnOf('AWS::Kinesis::Stream', processor.dataStream.name) };
}
