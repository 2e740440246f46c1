import { InvokeCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import type { WorkerEvent, WorkerInvoker } from '../use-cases/run-processor-worker';

/** Starts a run of the processor worker Lambda asynchronously (InvocationType Event: answered 202, runs on its own). */
export class LambdaWorkerInvoker implements WorkerInvoker {
  constructor(
    private readonly client: LambdaClient,
    private readonly functionName: string,
  ) {}

  async invoke(event: WorkerEvent): Promise<void> {
    const r = await this.client.send(
      new InvokeCommand({ FunctionName: this.functionName, InvocationType: 'Event', Payload: Buffer.from(JSON.stringify(event)) }),
    );
    if (r.StatusCode !== 202) throw new Error(`Lambda did not accept the worker run of camera ${event.camera} (status ${r.StatusCode})`);
  }
}
