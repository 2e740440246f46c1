import {
  DeleteFacesCommand,
  IndexFacesCommand,
  type FaceRecord,
  type RekognitionClient,
} from '@aws-sdk/client-rekognition';
import type { IndexedFace } from '../domain/model';
import type { FaceCollection, IndexOutcome, PhotoLocation } from '../use-cases/index-photo';

/** DeleteFaces accepts at most 4096 ids per call. */
const DELETE_BATCH = 4096;

/** Rekognition errors that are about the image, not about the service: retrying never helps. */
const IMAGE_ERRORS: Record<string, Exclude<IndexOutcome, { kind: 'indexed' }>['problem']> = {
  InvalidImageFormatException: 'NOT_JPEG_OR_PNG',
  ImageTooLargeException: 'TOO_LARGE',
  InvalidParameterException: 'INVALID_IMAGE',
  InvalidS3ObjectException: 'UNREADABLE',
};

export class RekognitionFaceCollection implements FaceCollection {
  constructor(
    private readonly client: RekognitionClient,
    private readonly collectionId: string,
  ) {}

  async indexFace(photo: PhotoLocation, externalImageId: string): Promise<IndexOutcome> {
    try {
      const response = await this.client.send(
        new IndexFacesCommand({
          CollectionId: this.collectionId,
          Image: { S3Object: { Bucket: photo.bucket, Name: photo.key, ...(photo.versionId ? { Version: photo.versionId } : {}) } },
          ExternalImageId: externalImageId,
          MaxFaces: 1,
          QualityFilter: 'AUTO',
          DetectionAttributes: ['ALL'],
        }),
      );
      return {
        kind: 'indexed',
        faces: (response.FaceRecords ?? []).map(toIndexedFace),
        unindexedReasons: (response.UnindexedFaces ?? []).flatMap((f) => f.Reasons ?? []),
        faceModelVersion: response.FaceModelVersion,
      };
    } catch (error) {
      const problem = IMAGE_ERRORS[(error as Error).name];
      if (problem) return { kind: 'refused', problem, detail: (error as Error).message };
      throw error;
    }
  }

  async deleteFaces(faceIds: readonly string[]): Promise<number> {
    let deleted = 0;
    for (let i = 0; i < faceIds.length; i += DELETE_BATCH) {
      const response = await this.client.send(
        new DeleteFacesCommand({ CollectionId: this.collectionId, FaceIds: faceIds.slice(i, i + DELETE_BATCH) }),
      );
      deleted += response.DeletedFaces?.length ?? 0;
    }
    return deleted;
  }
}

function toIndexedFace(record: FaceRecord): IndexedFace {
  const face = record.Face ?? {};
  const detail = record.FaceDetail ?? {};
  const box = face.BoundingBox ?? detail.BoundingBox ?? {};
  return {
    faceId: face.FaceId ?? '',
    imageId: face.ImageId ?? '',
    boundingBox: { Width: box.Width ?? 0, Height: box.Height ?? 0, Left: box.Left ?? 0, Top: box.Top ?? 0 },
    confidence: face.Confidence ?? detail.Confidence ?? 0,
    quality: { Brightness: detail.Quality?.Brightness, Sharpness: detail.Quality?.Sharpness },
    ...(detail.Pose ? { pose: { Pitch: detail.Pose.Pitch, Roll: detail.Pose.Roll, Yaw: detail.Pose.Yaw } } : {}),
  };
}
