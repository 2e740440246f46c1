import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { SnsAlertPublisher } from '../../../shared/adapters/alert-publisher';
import { buildAlertMessage } from '../../../shared/domain/alert-message';
import { sightingsFromRecord } from '../../../shared/domain/sighting';
import { seedRecord } from '../../fixtures/face-search-records';

describe('SnsAlertPublisher', () => {
  const sns = mockClient(SNSClient);
  afterEach(() => sns.reset());

  it('publishes one message with per-protocol texts and string attributes for filtering', async () => {
    // Given an alert for Jhb
    sns.on(PublishCommand).resolves({ MessageId: 'm-1' });
    const [, sighting] = sightingsFromRecord(seedRecord(), 'porch', { faceMatchThreshold: 85.5, retentionDays: 30 });
    const message = buildAlertMessage(sighting, { displayName: 'J. H. B.', cooldownSeconds: 60 });

    // When published
    const id = await new SnsAlertPublisher(new SNSClient({ region: 'us-east-1' }), 'arn:aws:sns:us-east-1:123456789012:alerts').publish(message);

    // Then SNS got exactly that, as MessageStructure json
    expect(id).toBe('m-1');
    const calls = sns.commandCalls(PublishCommand);
    expect(calls).toHaveLength(1);
    const input = calls[0].args[0].input;
    expect(input).toMatchObject({
      TopicArn: 'arn:aws:sns:us-east-1:123456789012:alerts',
      MessageStructure: 'json',
      Subject: 'facewatch: J. H. B. seen at porch',
      MessageAttributes: {
        person: { DataType: 'String', StringValue: 'Jhb' },
        camera: { DataType: 'String', StringValue: 'porch' },
        kind: { DataType: 'String', StringValue: 'known' },
      },
    });
    expect(Object.keys(JSON.parse(input.Message!))).toEqual(expect.arrayContaining(['default', 'sms', 'email']));
  });

  it('lets an SNS failure through, for the record to be retried', async () => {
    sns.on(PublishCommand).rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottledException' }));
    const [sighting] = sightingsFromRecord(seedRecord(), 'porch', { faceMatchThreshold: 85.5, retentionDays: 30 });
    const publisher = new SnsAlertPublisher(new SNSClient({ region: 'us-east-1' }), 'arn:aws:sns:us-east-1:123456789012:alerts');
    await expect(publisher.publish(buildAlertMessage(sighting, { cooldownSeconds: 60 }))).rejects.toThrow('Rate exceeded');
  });
});
