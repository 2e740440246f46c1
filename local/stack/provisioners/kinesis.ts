/** AWS::Kinesis::Stream and AWS::Kinesis::StreamConsumer. */
import { CreateStreamCommand, DescribeStreamSummaryCommand } from '@aws-sdk/client-kinesis';
import { unlessAlreadyThere, type Provisioner } from './provisioner';

/** The stream, waited for until ACTIVE (up to ~10 s). */
export const provisionStream: Provisioner = async ({ props, attrs }, { clients }) => {
  await clients.kinesis.send(new CreateStreamCommand({ StreamName: attrs.ref, ShardCount: Number(props.ShardCount ?? 1) })).catch(unlessAlreadyThere);
  for (let i = 0; i < 100; i++) {
    const { StreamDescriptionSummary } = await clients.kinesis.send(new DescribeStreamSummaryCommand({ StreamName: attrs.ref }));
    if (StreamDescriptionSummary?.StreamStatus === 'ACTIVE') break;
    await new Promise((r) => setTimeout(r, 100));
  }
};

/**
 * An enhanced fan-out consumer: nothing to create in the Kinesis emulator (it has no consumers); a mapping
 * reading through it gets push-like delivery from its poller (event-sources.ts).
 */
export const provisionStreamConsumer: Provisioner = async () => {};
