import { PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import type { AlertMessage } from '../domain/alert-message';

/** Where alerts go. */
export interface AlertPublisher {
  /** Publishes the alert; answers the message id. Throws when it may not have been delivered (the caller retries). */
  publish(message: AlertMessage): Promise<string>;
}

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
