import { RekognitionClient } from '@aws-sdk/client-rekognition';
import { clientOptions } from './options';

export const rekognition = new RekognitionClient(clientOptions);
