import { DetectFacesCommand, SearchFacesByImageCommand, type RekognitionClient } from '@aws-sdk/client-rekognition';
import type { DetectedFaceInput } from '../domain/frame-analysis';
import type { BoundingBox } from '../domain/model';
import type { FaceAnalyzer, FaceSearchResult, SearchOptions } from '../use-cases/processor-ports';

/** DetectFaces with the DEFAULT attributes (box, confidence, five landmarks, pose, quality) and SearchFacesByImage. */
export class RekognitionFaceAnalyzer implements FaceAnalyzer {
  constructor(private readonly client: RekognitionClient) {}

  async detectFaces(image: Uint8Array): Promise<DetectedFaceInput[]> {
    const r = await this.client.send(new DetectFacesCommand({ Image: { Bytes: image }, Attributes: ['DEFAULT'] }));
    return r.FaceDetails ?? [];
  }

  async searchFacesByImage(image: Uint8Array, options: SearchOptions): Promise<FaceSearchResult | null> {
    try {
      const r = await this.client.send(
        new SearchFacesByImageCommand({
          CollectionId: options.collectionId,
          Image: { Bytes: image },
          FaceMatchThreshold: options.faceMatchThreshold,
          MaxFaces: options.maxFaces,
        }),
      );
      const box = r.SearchedFaceBoundingBox;
      if (!box) return null;
      return { searchedFace: box as BoundingBox, matches: r.FaceMatches ?? [] };
    } catch (error) {
      // Rekognition's answer when the image holds no face it can search (a face only DetectFaces saw).
      if ((error as Error).name === 'InvalidParameterException') return null;
      throw error;
    }
  }
}
