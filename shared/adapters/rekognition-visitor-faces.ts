import { IndexFacesCommand, SearchFacesByImageCommand, type RekognitionClient } from '@aws-sdk/client-rekognition';
import type { VisitorFaces } from '../use-cases/processor-ports';

/**
 * The visitors collection (unknown faces, one ExternalImageId per visitor) for the processor: SearchFacesByImage
 * and IndexFaces on a face's crop (image bytes, never stored in S3 for this).
 */
export class RekognitionVisitorFaces implements VisitorFaces {
  constructor(private readonly client: RekognitionClient) {}

  async search(image: Uint8Array, options: { collectionId: string; faceMatchThreshold: number }) {
    try {
      const r = await this.client.send(
        new SearchFacesByImageCommand({ CollectionId: options.collectionId, Image: { Bytes: image }, FaceMatchThreshold: options.faceMatchThreshold, MaxFaces: 1 }),
      );
      const best = (r.FaceMatches ?? []).find((m) => m.Face?.ExternalImageId && m.Face.FaceId && (m.Similarity ?? 0) >= options.faceMatchThreshold);
      if (!best) return undefined;
      return { visitorId: best.Face!.ExternalImageId!, faceId: best.Face!.FaceId!, similarity: best.Similarity! };
    } catch (error) {
      // No face Rekognition can search in the crop.
      if ((error as Error).name === 'InvalidParameterException') return null;
      throw error;
    }
  }

  async index(image: Uint8Array, options: { collectionId: string; visitorId: string }) {
    try {
      const r = await this.client.send(
        new IndexFacesCommand({
          CollectionId: options.collectionId,
          Image: { Bytes: image },
          ExternalImageId: options.visitorId,
          MaxFaces: 1,
          // A blurred or tiny face would start visitors that never match again.
          QualityFilter: 'AUTO',
          DetectionAttributes: ['DEFAULT'],
        }),
      );
      const faceId = r.FaceRecords?.[0]?.Face?.FaceId;
      return faceId ? { faceId } : undefined;
    } catch (error) {
      if ((error as Error).name === 'InvalidParameterException' || (error as Error).name === 'InvalidImageFormatException') return undefined;
      throw error;
    }
  }
}
