import type { RekognitionClient } from '@aws-sdk/client-rekognition';
import { RekognitionFaceAnalyzer } from '../adapters/rekognition-face-analyzer';
import { HumanFaceDetector } from '../face-detector/human-face-detector';
import type { FaceAnalyzer } from '../use-cases/processor-ports';

/** processorFaceDetector: `local` finds faces in the worker itself, `rekognition` pays DetectFaces for every frame. */
export type FaceDetectorChoice = 'local' | 'rekognition';

/**
 * The processor's FaceAnalyzer: faces found by the chosen detector, identified by Rekognition's
 * SearchFacesByImage in both cases (the same records either way). The handler and the local runner both use it.
 */
export function faceAnalyzer(detector: FaceDetectorChoice, rekognition: RekognitionClient): FaceAnalyzer {
  const aws = new RekognitionFaceAnalyzer(rekognition);
  if (detector === 'rekognition') return aws;
  const local = new HumanFaceDetector();
  return {
    detectFaces: (image) => local.detectFaces(image),
    searchFacesByImage: (image, options) => aws.searchFacesByImage(image, options),
  };
}
