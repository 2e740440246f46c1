import { PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import type { AlertMessage } from '../domain/alert-message';
import type { AlertPublisher } from '../use-cases/record-sightings';

export class SnsAlertPublisher implements AlertPublisher {
  constructor(
    private readonly client: SNSClient,
    private readonly topicArn: string,
  ) {}

  async publish(message: AlertMessage): Promise<string> {
    const response = await this.client.send(
      new PublishCommand({
        TopicArn: this.topicArn,
        Subject: message.subject,
        Message: message.message,
        MessageStructure: message.messageStructure,
        MessageAttributes: Object.fromEntries(
          Object.entries(message.attributes).map(([name, value]) => [name, { DataType: 'String', StringValue: value }]),
        ),
      }),
    );
    return response.MessageId ?? '';
  }
}
