/**
 * The Rekognition operations over the collection store, the face engine and the stream processors.
 * Request/response shapes follow @aws-sdk/client-rekognition's types.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import type {
  CreateCollectionResponse,
  CreateStreamProcessorResponse,
  DeleteCollectionResponse,
  DeleteFacesResponse,
  DescribeCollectionResponse,
  DescribeStreamProcessorResponse,
  DetectFacesResponse,
  Face,
  FaceMatch,
  FaceRecord,
  IndexFacesResponse,
  ListCollectionsResponse,
  ListFacesResponse,
  ListStreamProcessorsResponse,
  SearchFacesByImageResponse,
  SearchFacesResponse,
  StartStreamProcessorResponse,
  UnindexedFace,
  UnsuccessfulFaceDeletion,
} from '@aws-sdk/client-rekognition';
import type { S3Client } from '@aws-sdk/client-s3';
import { EnginePool } from './engine/pool';
import type { AnalyzeOptions, AnalyzeResult, RawFace } from './engine/types';
import { RekognitionError, inUse, invalidParameter, invalidToken, limitExceeded, notFound, alreadyExists } from './errors';
import { needsEngineAttributes, qualityReasons, toBoundingBox, toFaceDetail } from './facedetail';
import { loadImage, type LoadedImage } from './images';
import { distanceForSimilarity, similarityFromDistance } from './similarity';
import { CollectionStore, FACE_MODEL_VERSION, type Collection, type StoredFace } from './store';
import { StreamProcessorStore, type StreamProcessorRecord, type StreamProcessorRunner } from './stream-processors';
import {
  ATTRIBUTES,
  COLLECTION_ID,
  Checker,
  EXTERNAL_IMAGE_ID,
  FACE_ID,
  QUALITY_FILTERS,
  STREAM_PROCESSOR_NAME,
  decodeToken,
  encodeToken,
  type Attribute,
  type Body,
  type QualityFilterLevel,
} from './validate';
import type { VectorIndexOptions } from './vector-index';

export const ACCOUNT_ID = '000000000000';

export interface ServiceOptions {
  dataDir: string;
  /** Local S3 endpoint (s3rver) for Image.S3Object. */
  s3Endpoint?: string;
  /** Default region when a request carries no SigV4 credential scope. */
  region?: string;
  /** Worker threads for the face engine (default: CPUs, max 4). */
  workers?: number;
  /** Share an engine pool between services (tests); otherwise one is created. */
  engine?: EnginePool;
  runner?: StreamProcessorRunner;
  index?: VectorIndexOptions;
  /** Max stream processors RUNNING at once (AWS default quota: 10 face-search processors per Region). */
  maxRunningStreamProcessors?: number;
}

export interface RequestContext {
  region: string;
}

type Handler = (body: Body, ctx: RequestContext) => Promise<object>;

const MAX_FACES_PER_IMAGE = 100;

/** Deterministic ImageId for an image's bytes (a name-based UUID, like Rekognition's). */
export function imageIdFor(bytes: Uint8Array): string {
  const h = crypto.createHash('md5').update(bytes).digest();
  h[6] = (h[6] & 0x0f) | 0x30;
  h[8] = (h[8] & 0x3f) | 0x80;
  const x = h.toString('hex');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
}

function iou(a: { Left?: number; Top?: number; Width?: number; Height?: number }, b: typeof a): number {
  const ax = a.Left ?? 0, ay = a.Top ?? 0, aw = a.Width ?? 0, ah = a.Height ?? 0;
  const bx = b.Left ?? 0, by = b.Top ?? 0, bw = b.Width ?? 0, bh = b.Height ?? 0;
  const w = Math.max(0, Math.min(ax + aw, bx + bw) - Math.max(ax, bx));
  const h = Math.max(0, Math.min(ay + ah, by + bh) - Math.max(ay, by));
  const i = w * h;
  return i / (aw * ah + bw * bh - i || 1);
}

const area = (f: RawFace) => f.box.width * f.box.height;
const r4 = (v: number) => Math.round(v * 1e4) / 1e4;

export class RekognitionService {
  readonly collections: CollectionStore;
  readonly streamProcessors: StreamProcessorStore;
  private engineInstance: EnginePool | null;
  private readonly ownsEngine: boolean;
  private s3Client: S3Client | null = null;
  private readonly handlers: Record<string, Handler>;

  constructor(readonly options: ServiceOptions) {
    fs.mkdirSync(options.dataDir, { recursive: true });
    this.collections = new CollectionStore(options.dataDir, options.index);
    this.streamProcessors = new StreamProcessorStore(options.dataDir, options.runner);
    this.streamProcessors.resume();
    this.engineInstance = options.engine ?? null;
    this.ownsEngine = !options.engine;
    this.handlers = {
      CreateCollection: (b, c) => this.createCollection(b, c),
      DeleteCollection: (b) => this.deleteCollection(b),
      ListCollections: (b) => this.listCollections(b),
      DescribeCollection: (b) => this.describeCollection(b),
      IndexFaces: (b) => this.indexFaces(b),
      DetectFaces: (b) => this.detectFaces(b),
      SearchFacesByImage: (b) => this.searchFacesByImage(b),
      SearchFaces: (b) => this.searchFaces(b),
      ListFaces: (b) => this.listFaces(b),
      DeleteFaces: (b) => this.deleteFaces(b),
      CreateStreamProcessor: (b, c) => this.createStreamProcessor(b, c),
      DescribeStreamProcessor: (b) => this.describeStreamProcessor(b),
      ListStreamProcessors: (b) => this.listStreamProcessors(b),
      StartStreamProcessor: (b) => this.startStreamProcessor(b),
      StopStreamProcessor: (b) => this.stopStreamProcessor(b),
      DeleteStreamProcessor: (b) => this.deleteStreamProcessor(b),
    };
  }

  /** Replaces the stream processor runner (the video side, built elsewhere). */
  setRunner(runner: StreamProcessorRunner): void {
    this.streamProcessors.runner = runner;
    // Processors that were running before a restart resumed with the previous runner: run them on this one.
    this.streamProcessors.resume();
  }

  get engine(): EnginePool {
    if (!this.engineInstance) this.engineInstance = new EnginePool({ size: this.options.workers });
    return this.engineInstance;
  }

  /** Starts loading the models now rather than on the first image request. */
  warmUp(): Promise<void> {
    return this.engine.ready();
  }

  get operations(): string[] {
    return Object.keys(this.handlers);
  }

  async call(operation: string, body: Body, ctx: RequestContext): Promise<object> {
    const handler = this.handlers[operation];
    if (!handler) throw new RekognitionError('UnknownOperationException', `Operation ${operation} is not supported by this local Rekognition`);
    if (!body || typeof body !== 'object' || Array.isArray(body)) throw new RekognitionError('SerializationException', 'Request body must be a JSON object');
    return handler(body, ctx);
  }

  async close(): Promise<void> {
    this.collections.close();
    if (this.ownsEngine && this.engineInstance) await this.engineInstance.close();
    this.engineInstance = null;
    this.s3Client?.destroy();
  }

  // ---------------------------------------------------------------- helpers

  private s3(): S3Client | null {
    if (!this.options.s3Endpoint) return null;
    if (!this.s3Client) {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const { S3Client: Client } = require('@aws-sdk/client-s3') as typeof import('@aws-sdk/client-s3');
      this.s3Client = new Client({
        endpoint: this.options.s3Endpoint,
        region: this.options.region ?? 'us-east-1',
        forcePathStyle: true,
        credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
        requestChecksumCalculation: 'WHEN_REQUIRED',
        responseChecksumValidation: 'WHEN_REQUIRED',
      });
    }
    return this.s3Client;
  }

  private collection(id: string): Collection {
    const c = this.collections.get(id);
    if (!c) throw notFound(`The collection id: ${id} does not exist`);
    return c;
  }

  private collectionId(check: Checker): string {
    return check.string('CollectionId', { required: true, min: 1, max: 255, pattern: COLLECTION_ID }) as string;
  }

  private attributes(check: Checker, name: string): Attribute[] {
    const list = check.list<string>(name) ?? ['DEFAULT'];
    list.forEach((a, i) => {
      if (!(ATTRIBUTES as readonly string[]).includes(a)) check.problem(`${name.charAt(0).toLowerCase()}${name.slice(1)}.${i + 1}.member`, a, `Member must satisfy enum value set: [${ATTRIBUTES.join(', ')}]`);
    });
    return list as Attribute[];
  }

  private async analyze(image: LoadedImage, attributes: boolean, descriptors: AnalyzeOptions['descriptors']): Promise<AnalyzeResult> {
    // Searches jump the engine's queue (see EnginePool.analyze).
    return this.engine.analyze(image.bytes, { attributes, descriptors }, descriptors === 'largest');
  }

  private faceOf(f: StoredFace): Face {
    return {
      FaceId: f.FaceId,
      BoundingBox: f.BoundingBox,
      ImageId: f.ImageId,
      ...(f.ExternalImageId !== undefined ? { ExternalImageId: f.ExternalImageId } : {}),
      Confidence: f.Confidence,
      IndexFacesModelVersion: f.IndexFacesModelVersion,
    };
  }

  private matches(c: Collection, descriptor: ArrayLike<number>, maxFaces: number, threshold: number, exclude?: number): FaceMatch[] {
    const hits = c.index.search(descriptor, maxFaces, distanceForSimilarity(threshold), exclude);
    const out: FaceMatch[] = [];
    for (const h of hits) {
      const face = c.faceByKey(h.key);
      const similarity = similarityFromDistance(h.distance);
      if (!face || similarity < threshold) continue;
      out.push({ Similarity: r4(similarity), Face: this.faceOf(face) });
    }
    return out;
  }

  // ---------------------------------------------------------------- collections

  private async createCollection(body: Body, ctx: RequestContext): Promise<CreateCollectionResponse> {
    const check = new Checker(body);
    const id = this.collectionId(check);
    check.done();
    return this.collections.lock.run(() => {
      if (this.collections.get(id)) throw alreadyExists(`The collection id: ${id} already exists`);
      const arn = `arn:aws:rekognition:${ctx.region}:${ACCOUNT_ID}:collection/${id}`;
      this.collections.create({
        CollectionId: id,
        CollectionArn: arn,
        CreationTimestamp: Date.now() / 1000,
        FaceModelVersion: FACE_MODEL_VERSION,
        Tags: (body.Tags as Record<string, string>) ?? undefined,
      });
      return { StatusCode: 200, CollectionArn: arn, FaceModelVersion: FACE_MODEL_VERSION };
    });
  }

  private async deleteCollection(body: Body): Promise<DeleteCollectionResponse> {
    const check = new Checker(body);
    const id = this.collectionId(check);
    check.done();
    return this.collections.lock.run(async () => {
      const c = this.collection(id);
      await c.lock.run(() => this.collections.delete(id));
      return { StatusCode: 200 };
    });
  }

  private async listCollections(body: Body): Promise<ListCollectionsResponse> {
    const check = new Checker(body);
    const token = check.string('NextToken', { max: 255 });
    const max = check.number('MaxResults', { min: 0, max: 4096, integer: true }) ?? 1000;
    check.done();
    const all = [...this.collections.collections.values()].sort(
      (a, b) => a.meta.CreationTimestamp - b.meta.CreationTimestamp || a.meta.CollectionId.localeCompare(b.meta.CollectionId),
    );
    let start = 0;
    if (token !== undefined) {
      const p = decodeToken(token, 'collections');
      if (typeof p !== 'number') throw invalidToken();
      start = p;
    }
    const page = all.slice(start, start + max);
    const next = start + page.length < all.length && max > 0 ? encodeToken('collections', start + page.length) : undefined;
    return {
      CollectionIds: page.map((c) => c.meta.CollectionId),
      FaceModelVersions: page.map((c) => c.meta.FaceModelVersion),
      ...(next ? { NextToken: next } : {}),
    };
  }

  private async describeCollection(body: Body): Promise<DescribeCollectionResponse> {
    const check = new Checker(body);
    const id = this.collectionId(check);
    check.done();
    const c = this.collection(id);
    return {
      FaceCount: c.size,
      UserCount: 0,
      FaceModelVersion: c.meta.FaceModelVersion,
      CollectionARN: c.meta.CollectionArn,
      CreationTimestamp: c.meta.CreationTimestamp as unknown as Date, // epoch seconds on the wire
    };
  }

  // ---------------------------------------------------------------- faces

  private async indexFaces(body: Body): Promise<IndexFacesResponse> {
    const check = new Checker(body);
    const id = this.collectionId(check);
    const externalImageId = check.string('ExternalImageId', { min: 1, max: 255, pattern: EXTERNAL_IMAGE_ID });
    const attributes = this.attributes(check, 'DetectionAttributes');
    const maxFaces = check.number('MaxFaces', { min: 1, integer: true }) ?? MAX_FACES_PER_IMAGE;
    const filter = (check.string('QualityFilter', { enum: QUALITY_FILTERS }) ?? 'AUTO') as QualityFilterLevel;
    if (body.Image === undefined) check.problem('image', null, 'Member must not be null');
    check.done();
    const c = this.collection(id);
    const image = await loadImage(body.Image, () => this.s3());
    const analysis = await this.analyze(image, needsEngineAttributes(attributes), 'all');
    const scale = image.width / analysis.width;
    const faces = [...analysis.faces].sort((a, b) => area(b) - area(a));
    const detail = (f: RawFace) => toFaceDetail(f, analysis.width, analysis.height, { attributes });
    const unindexed: UnindexedFace[] = [];
    const passing: RawFace[] = [];
    for (const f of faces) {
      const reasons = qualityReasons(f, filter, scale);
      if (reasons.length) unindexed.push({ Reasons: reasons, FaceDetail: detail(f) });
      else passing.push(f);
    }
    const limit = Math.min(maxFaces, MAX_FACES_PER_IMAGE);
    for (const f of passing.slice(limit)) unindexed.push({ Reasons: ['EXCEEDS_MAX_FACES'], FaceDetail: detail(f) });
    const chosen = passing.slice(0, limit);
    const imageId = imageIdFor(image.bytes);
    const records: FaceRecord[] = await c.lock.run(() => {
      if (this.collections.get(id) !== c) throw notFound(`The collection id: ${id} does not exist`);
      const sameImage = c.facesOfImage(imageId).filter((f) => f.ExternalImageId === externalImageId);
      return chosen.map((f) => {
        const box = toBoundingBox(f, analysis.width, analysis.height);
        const existing = sameImage.find((s) => iou(s.BoundingBox, box) > 0.5);
        const stored =
          existing ??
          c.addFace(
            {
              FaceId: crypto.randomUUID(),
              ImageId: imageId,
              ...(externalImageId !== undefined ? { ExternalImageId: externalImageId } : {}),
              BoundingBox: box,
              Confidence: r4(f.confidence),
              IndexFacesModelVersion: FACE_MODEL_VERSION,
            },
            f.descriptor,
          );
        const face = this.faceOf(stored);
        delete face.IndexFacesModelVersion;
        return { Face: face, FaceDetail: detail(f) };
      });
    });
    return { FaceRecords: records, FaceModelVersion: FACE_MODEL_VERSION, UnindexedFaces: unindexed };
  }

  private async detectFaces(body: Body): Promise<DetectFacesResponse> {
    const check = new Checker(body);
    const attributes = this.attributes(check, 'Attributes');
    if (body.Image === undefined) check.problem('image', null, 'Member must not be null');
    check.done();
    const image = await loadImage(body.Image, () => this.s3());
    // DetectFaces returns no descriptor: the engine skips the recognition net.
    const analysis = await this.analyze(image, needsEngineAttributes(attributes), 'none');
    const faces = [...analysis.faces].sort((a, b) => area(b) - area(a)).slice(0, MAX_FACES_PER_IMAGE);
    return { FaceDetails: faces.map((f) => toFaceDetail(f, analysis.width, analysis.height, { attributes })) };
  }

  private async searchFacesByImage(body: Body): Promise<SearchFacesByImageResponse> {
    const check = new Checker(body);
    const id = this.collectionId(check);
    const maxFaces = check.number('MaxFaces', { min: 1, max: 4096, integer: true }) ?? 80;
    const threshold = check.number('FaceMatchThreshold', { min: 0, max: 100 }) ?? 80;
    const filter = (check.string('QualityFilter', { enum: QUALITY_FILTERS }) ?? 'NONE') as QualityFilterLevel;
    if (body.Image === undefined) check.problem('image', null, 'Member must not be null');
    check.done();
    const c = this.collection(id);
    const image = await loadImage(body.Image, () => this.s3());
    // Only the largest face is searched, so only it needs a descriptor.
    const analysis = await this.analyze(image, false, 'largest');
    if (!analysis.faces.length) throw invalidParameter('There are no faces in the image. Should be at least 1.');
    const largest = analysis.faces.reduce((m, f) => (area(f) > area(m) ? f : m));
    if (qualityReasons(largest, filter, image.width / analysis.width).length)
      throw invalidParameter('The face in the image does not meet the quality bar of the QualityFilter.');
    return {
      SearchedFaceBoundingBox: toBoundingBox(largest, analysis.width, analysis.height),
      SearchedFaceConfidence: r4(largest.confidence),
      FaceMatches: this.matches(c, largest.descriptor, maxFaces, threshold),
      FaceModelVersion: FACE_MODEL_VERSION,
    };
  }

  private async searchFaces(body: Body): Promise<SearchFacesResponse> {
    const check = new Checker(body);
    const id = this.collectionId(check);
    const faceId = check.string('FaceId', { required: true, pattern: FACE_ID }) as string;
    const maxFaces = check.number('MaxFaces', { min: 1, max: 4096, integer: true }) ?? 80;
    const threshold = check.number('FaceMatchThreshold', { min: 0, max: 100 }) ?? 80;
    check.done();
    const c = this.collection(id);
    const face = c.face(faceId);
    const descriptor = face ? c.index.vector(face.key) : null;
    if (!face || !descriptor) throw invalidParameter(`Invalid face ID: ${faceId} is not in collection ${id}`);
    return {
      SearchedFaceId: faceId,
      FaceMatches: this.matches(c, descriptor, maxFaces, threshold, face.key),
      FaceModelVersion: FACE_MODEL_VERSION,
    };
  }

  private async listFaces(body: Body): Promise<ListFacesResponse> {
    const check = new Checker(body);
    const id = this.collectionId(check);
    const token = check.string('NextToken', { max: 255 });
    const max = check.number('MaxResults', { min: 0, max: 4096, integer: true }) ?? 1000;
    const faceIds = check.list<string>('FaceIds', { min: 1, max: 4096 });
    faceIds?.forEach((f, i) => {
      if (typeof f !== 'string' || !new RegExp(`^${FACE_ID.source}$`).test(f)) check.problem(`faceIds.${i + 1}.member`, f, `Member must satisfy regular expression pattern: ${FACE_ID.source}`);
    });
    check.string('UserId', { min: 1, max: 128 });
    check.done();
    const c = this.collection(id);
    let after = 0;
    if (token !== undefined) {
      const p = decodeToken(token, `faces:${id}`);
      if (typeof p !== 'number') throw invalidToken();
      after = p;
    }
    // One more than a page tells whether another page follows; faces come in the order they were indexed.
    const page = faceIds
      ? c
          .facesWithIds(new Set(faceIds))
          .filter((f) => f.key > after)
          .sort((a, b) => a.key - b.key)
          .slice(0, max + 1)
      : c.facesAfter(after, max + 1);
    const more = page.length > max;
    const faces: Face[] = page.slice(0, max).map((f) => this.faceOf(f));
    const last = faces.length ? page[faces.length - 1].key : after;
    return { Faces: faces, FaceModelVersion: FACE_MODEL_VERSION, ...(more ? { NextToken: encodeToken(`faces:${id}`, last) } : {}) };
  }

  private async deleteFaces(body: Body): Promise<DeleteFacesResponse> {
    const check = new Checker(body);
    const id = this.collectionId(check);
    const ids = check.list<string>('FaceIds', { required: true, min: 1, max: 4096 }) ?? [];
    ids.forEach((f, i) => {
      if (typeof f !== 'string' || !new RegExp(`^${FACE_ID.source}$`).test(f)) check.problem(`faceIds.${i + 1}.member`, f, `Member must satisfy regular expression pattern: ${FACE_ID.source}`);
    });
    check.done();
    const c = this.collection(id);
    return c.lock.run(() => {
      const deleted = c.deleteFaces([...new Set(ids)]);
      const gone = new Set(deleted);
      const failed: UnsuccessfulFaceDeletion[] = [...new Set(ids)].filter((f) => !gone.has(f)).map((f) => ({ FaceId: f, Reasons: ['FACE_NOT_FOUND'] }));
      return { DeletedFaces: deleted, ...(failed.length ? { UnsuccessfulFaceDeletions: failed } : {}) };
    });
  }

  // ---------------------------------------------------------------- stream processors

  private processor(name: string): StreamProcessorRecord {
    const p = this.streamProcessors.processors.get(name);
    if (!p) throw notFound(`Stream processor ${name} does not exist.`);
    return p;
  }

  private processorName(check: Checker): string {
    return check.string('Name', { required: true, min: 1, max: 128, pattern: STREAM_PROCESSOR_NAME }) as string;
  }

  private async createStreamProcessor(body: Body, ctx: RequestContext): Promise<CreateStreamProcessorResponse> {
    const check = new Checker(body);
    const name = this.processorName(check);
    const roleArn = check.string('RoleArn', { required: true, pattern: /arn:aws:iam::\d{12}:role\/?[a-zA-Z_0-9+=,.@\-_/]+/ });
    const input = body.Input as { KinesisVideoStream?: { Arn?: unknown } } | undefined;
    const output = body.Output as { KinesisDataStream?: { Arn?: unknown }; S3Destination?: { Bucket?: unknown; KeyPrefix?: unknown } } | undefined;
    const settings = body.Settings as { FaceSearch?: { CollectionId?: unknown; FaceMatchThreshold?: unknown }; ConnectedHome?: unknown } | undefined;
    const videoArn = input?.KinesisVideoStream?.Arn;
    const dataArn = output?.KinesisDataStream?.Arn;
    if (!input) check.problem('input', null, 'Member must not be null');
    else if (typeof videoArn !== 'string' || !/^arn:(aws|aws-us-gov|aws-cn):kinesisvideo:[a-z0-9-]+:[0-9]+:[a-z]+\/[a-zA-Z0-9_.-]+\/[0-9]+$/.test(videoArn))
      check.problem('input.kinesisVideoStream.arn', videoArn ?? null, 'Member must satisfy regular expression pattern: (^arn:([a-z\\d-]+):kinesisvideo:([a-z\\d-]+):\\d{12}:.+$)');
    if (!output) check.problem('output', null, 'Member must not be null');
    else if (dataArn !== undefined && (typeof dataArn !== 'string' || !/^arn:(aws|aws-us-gov|aws-cn):kinesis:[a-z0-9-]+:[0-9]+:stream\/[a-zA-Z0-9_.-]+$/.test(dataArn)))
      check.problem('output.kinesisDataStream.arn', dataArn, 'Member must satisfy regular expression pattern: (^arn:([a-z\\d-]+):kinesis:([a-z\\d-]+):\\d{12}:.+$)');
    if (!settings) check.problem('settings', null, 'Member must not be null');
    const faceSearch = settings?.FaceSearch;
    let threshold = 80;
    if (faceSearch) {
      const fs = new Checker(faceSearch as Body);
      const cid = fs.string('CollectionId', { min: 1, max: 255, pattern: COLLECTION_ID });
      if (cid === undefined) check.problem('settings.faceSearch.collectionId', null, 'Member must not be null');
      else if (!new RegExp(`^${COLLECTION_ID.source}$`).test(cid) || cid.length > 255)
        check.problem('settings.faceSearch.collectionId', cid, `Member must satisfy regular expression pattern: ${COLLECTION_ID.source}`);
      const t = faceSearch.FaceMatchThreshold;
      if (t !== undefined) {
        if (typeof t !== 'number' || t < 0 || t > 100) check.problem('settings.faceSearch.faceMatchThreshold', t, 'Member must have value between 0 and 100');
        else threshold = Math.max(80, t);
      }
    } else if (settings && !settings.ConnectedHome) {
      check.problem('settings', settings, 'Member must contain FaceSearch or ConnectedHome');
    }
    const rois = check.list('RegionsOfInterest', { max: 10 });
    check.done();
    if (faceSearch && !dataArn) throw invalidParameter('A face search stream processor needs Output.KinesisDataStream.');
    return this.streamProcessors.lock.run(() => {
      const store = this.streamProcessors;
      if (store.processors.has(name)) throw inUse(`Stream processor ${name} already exists.`);
      for (const p of store.processors.values()) {
        if (p.Input?.KinesisVideoStream?.Arn === videoArn) throw inUse(`Kinesis video stream ${videoArn} is already used by stream processor ${p.Name}.`);
        if (dataArn && p.Output?.KinesisDataStream?.Arn === dataArn) throw inUse(`Kinesis data stream ${dataArn} is already used by stream processor ${p.Name}.`);
      }
      const now = Date.now() / 1000;
      const arn = `arn:aws:rekognition:${ctx.region}:${ACCOUNT_ID}:streamprocessor/${name}`;
      const record: StreamProcessorRecord = {
        Name: name,
        StreamProcessorArn: arn,
        Status: 'STOPPED',
        CreationTimestamp: now,
        LastUpdateTimestamp: now,
        Input: { KinesisVideoStream: { Arn: videoArn as string } },
        Output: output as StreamProcessorRecord['Output'],
        RoleArn: roleArn as string,
        Settings: faceSearch
          ? { FaceSearch: { CollectionId: faceSearch.CollectionId as string, FaceMatchThreshold: threshold } }
          : (settings as StreamProcessorRecord['Settings']),
        ...(body.NotificationChannel ? { NotificationChannel: body.NotificationChannel as StreamProcessorRecord['NotificationChannel'] } : {}),
        ...(typeof body.KmsKeyId === 'string' ? { KmsKeyId: body.KmsKeyId } : {}),
        ...(rois ? { RegionsOfInterest: rois as StreamProcessorRecord['RegionsOfInterest'] } : {}),
        ...(body.DataSharingPreference ? { DataSharingPreference: body.DataSharingPreference as StreamProcessorRecord['DataSharingPreference'] } : {}),
        ...(body.Tags ? { Tags: body.Tags as Record<string, string> } : {}),
        Region: ctx.region,
      };
      store.processors.set(name, record);
      store.save();
      return { StreamProcessorArn: arn };
    });
  }

  private async describeStreamProcessor(body: Body): Promise<DescribeStreamProcessorResponse> {
    const check = new Checker(body);
    const name = this.processorName(check);
    check.done();
    const p = this.processor(name);
    const out: Record<string, unknown> = { ...p };
    delete out.Tags;
    delete out.SessionId;
    delete out.Region;
    if (out.StatusMessage === undefined) delete out.StatusMessage;
    return out as DescribeStreamProcessorResponse;
  }

  private async listStreamProcessors(body: Body): Promise<ListStreamProcessorsResponse> {
    const check = new Checker(body);
    const token = check.string('NextToken', { max: 255 });
    const max = check.number('MaxResults', { min: 1, integer: true }) ?? 1000;
    check.done();
    const all = [...this.streamProcessors.processors.values()].sort((a, b) => a.Name.localeCompare(b.Name));
    let start = 0;
    if (token !== undefined) {
      const p = decodeToken(token, 'streamprocessors');
      if (typeof p !== 'number') throw invalidToken();
      start = p;
    }
    const page = all.slice(start, start + max);
    const next = start + page.length < all.length ? encodeToken('streamprocessors', start + page.length) : undefined;
    return { StreamProcessors: page.map((p) => ({ Name: p.Name, Status: p.Status })), ...(next ? { NextToken: next } : {}) };
  }

  private async startStreamProcessor(body: Body): Promise<StartStreamProcessorResponse> {
    const check = new Checker(body);
    const name = this.processorName(check);
    check.done();
    return this.streamProcessors.lock.run(() => {
      const store = this.streamProcessors;
      const p = this.processor(name);
      if (p.Status !== 'STOPPED' && p.Status !== 'FAILED') throw inUse(`Stream processor ${name} is ${p.Status}: it can only be started when STOPPED or FAILED.`);
      const max = this.options.maxRunningStreamProcessors ?? 10;
      const active = [...store.processors.values()].filter((x) => x.Status === 'RUNNING' || x.Status === 'STARTING').length;
      if (active >= max) throw limitExceeded(`At most ${max} stream processors can run at once.`);
      const sessionId = crypto.randomUUID();
      p.SessionId = sessionId;
      store.setStatus(p, 'STARTING');
      const collectionId = p.Settings?.FaceSearch?.CollectionId;
      if (collectionId && !this.collections.get(collectionId)) store.setStatus(p, 'FAILED', `Collection ${collectionId} not found.`);
      else store.launch(p, sessionId);
      return { SessionId: sessionId };
    });
  }

  private async stopStreamProcessor(body: Body): Promise<object> {
    const check = new Checker(body);
    const name = this.processorName(check);
    check.done();
    return this.streamProcessors.lock.run(() => {
      const p = this.processor(name);
      if (p.Status !== 'RUNNING' && p.Status !== 'STARTING') throw inUse(`Stream processor ${name} is ${p.Status}: only a running processor can be stopped.`);
      this.streamProcessors.setStatus(p, 'STOPPING');
      this.streamProcessors.halt(p);
      return {};
    });
  }

  private async deleteStreamProcessor(body: Body): Promise<object> {
    const check = new Checker(body);
    const name = this.processorName(check);
    check.done();
    return this.streamProcessors.lock.run(() => {
      const p = this.processor(name);
      if (p.Status === 'RUNNING' || p.Status === 'STARTING' || p.Status === 'STOPPING' || p.Status === 'UPDATING')
        throw inUse(`Stream processor ${name} is ${p.Status}: stop it before deleting it.`);
      this.streamProcessors.processors.delete(name);
      this.streamProcessors.save();
      return {};
    });
  }
}
