import type { AlertPublisher } from '../../shared/use-cases/record-sightings';
import type { AlertMessage } from '../../shared/domain/alert-message';

/** The AlertPublisher port, recording instead of calling SNS (the SNS adapter has its own tests). */
export class RecordingAlertPublisher implements AlertPublisher {
  readonly published: (AlertMessage & { messageId: string })[] = [];
  private failures = 0;

  /** The next `count` publishes fail like an SNS outage (nothing recorded). */
  failNext(count = 1): void {
    this.failures += count;
  }

  async publish(message: AlertMessage): Promise<string> {
    if (this.failures > 0) {
      this.failures -= 1;
      throw Object.assign(new Error('Injected SNS outage'), { name: 'InternalErrorException' });
    }
    const messageId = `msg-${this.published.length + 1}`;
    this.published.push({ ...message, messageId });
    return messageId;
  }

  /** Who each alert was for, in order (the `person` attribute). */
  people(): string[] {
    return this.published.map((m) => m.attributes.person);
  }
}
