import {
  DescribeStreamProcessorCommand,
  StartStreamProcessorCommand,
  StopStreamProcessorCommand,
  type RekognitionClient,
} from '@aws-sdk/client-rekognition';
import type { Camera } from '../domain/camera';
import {
  ProcessorBusyError,
  ProcessorNotFoundError,
  type ProcessorPort,
  type ProcessorState,
  type ProcessorStatus,
} from '../use-cases/processor';

/** Rekognition's managed face-search stream processors (one per camera, created by CloudFormation). */
export class ManagedProcessor implements ProcessorPort {
  readonly mode = 'managed' as const;

  constructor(private readonly client: RekognitionClient) {}

  async describe(camera: Camera): Promise<ProcessorStatus> {
    const r = await this.call(camera, () => this.client.send(new DescribeStreamProcessorCommand({ Name: camera.processor })));
    return {
      camera: camera.camera,
      mode: this.mode,
      name: r.Name ?? camera.processor,
      state: (r.Status ?? 'STOPPED') as ProcessorState,
      ...(r.StatusMessage ? { statusMessage: r.StatusMessage } : {}),
      ...(r.LastUpdateTimestamp ? { lastChangeAt: r.LastUpdateTimestamp.toISOString() } : {}),
      ...(r.CreationTimestamp ? { createdAt: r.CreationTimestamp.toISOString() } : {}),
      videoStream: { name: camera.videoStream, arn: r.Input?.KinesisVideoStream?.Arn },
      dataStream: { name: camera.dataStream, arn: r.Output?.KinesisDataStream?.Arn },
      settings: {
        collectionId: r.Settings?.FaceSearch?.CollectionId,
        faceMatchThreshold: r.Settings?.FaceSearch?.FaceMatchThreshold,
      },
    };
  }

  async start(camera: Camera): Promise<void> {
    await this.call(camera, () => this.client.send(new StartStreamProcessorCommand({ Name: camera.processor })));
  }

  async stop(camera: Camera): Promise<void> {
    await this.call(camera, () => this.client.send(new StopStreamProcessorCommand({ Name: camera.processor })));
  }

  private async call<T>(camera: Camera, send: () => Promise<T>): Promise<T> {
    try {
      return await send();
    } catch (error) {
      const name = (error as Error).name;
      if (name === 'ResourceNotFoundException') throw new ProcessorNotFoundError(camera.camera, camera.processor);
      if (name === 'ResourceInUseException') throw new ProcessorBusyError(camera.camera, (error as Error).message);
      throw error;
    }
  }
}
