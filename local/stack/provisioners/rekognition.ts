/** AWS::Rekognition::Collection and AWS::Rekognition::StreamProcessor, in the local Rekognition. */
import { CreateCollectionCommand, CreateStreamProcessorCommand } from '@aws-sdk/client-rekognition';
import { tagsOf, unlessAlreadyThere, type Provisioner } from './provisioner';

export const provisionCollection: Provisioner = async ({ attrs }, { clients }) => {
  await clients.rekognition.send(new CreateCollectionCommand({ CollectionId: attrs.ref })).catch(unlessAlreadyThere);
};

/** A face-search stream processor: video stream in, face-search records out to the data stream. */
export const provisionStreamProcessor: Provisioner = async ({ props, attrs }, { clients }) => {
  const faceSearch = props.FaceSearchSettings as { CollectionId: string; FaceMatchThreshold?: number } | undefined;
  await clients.rekognition
    .send(
      new CreateStreamProcessorCommand({
        Name: attrs.ref,
        Input: { KinesisVideoStream: { Arn: (props.KinesisVideoStream as { Arn: string }).Arn } },
        Output: { KinesisDataStream: { Arn: (props.KinesisDataStream as { Arn: string }).Arn } },
        RoleArn: String(props.RoleArn),
        Settings: faceSearch ? { FaceSearch: faceSearch } : undefined,
        Tags: tagsOf(props),
      }),
    )
    .catch(unlessAlreadyThere);
};
