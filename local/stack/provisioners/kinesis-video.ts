/** AWS::KinesisVideo::Stream: the video stream; its ARN (with the creation time in it) as the service answers it. */
import { CreateStreamCommand, DescribeStreamCommand } from '@aws-sdk/client-kinesis-video';
import { tagsOf, unlessAlreadyThere, type Provisioner } from './provisioner';

export const provisionVideoStream: Provisioner = async ({ id, props, attrs }, { cfn, clients }) => {
  await clients.kinesisVideo
    .send(
      new CreateStreamCommand({
        StreamName: attrs.ref,
        DataRetentionInHours: props.DataRetentionInHours as number | undefined,
        MediaType: props.MediaType as string | undefined,
        Tags: tagsOf(props),
      }),
    )
    .catch(unlessAlreadyThere);
  const { StreamInfo } = await clients.kinesisVideo.send(new DescribeStreamCommand({ StreamName: attrs.ref }));
  if (StreamInfo?.StreamARN) cfn.setAttributes(id, { attributes: { Arn: StreamInfo.StreamARN } });
};
