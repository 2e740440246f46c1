/**
 * IAM enforced locally: the consumer's role in the compiled template loses dynamodb:PutItem; its process then
 * fails to write a sighting with AWS's AccessDeniedException, as it would on AWS, while the operator's own
 * credentials (test/test) still may do anything.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import type { PolicyStatement } from '../../local/gateway/iam';
import { startLocalStack, type LocalStack } from '../../local/stack/stack';
import type { CfnTemplate } from '../../local/stack/template';
import { faceSearchRecord, matchedFace } from '../fixtures/face-search-records';
import { kinesisEvent } from '../support/kinesis-events';

jest.setTimeout(240_000);

/** Removes `action` from every statement of the role of `functionId` (a statement left with no action goes). */
function withoutPermission(template: CfnTemplate, functionId: string, action: string): void {
  const role = (template.Resources[functionId].Properties!.Role as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
  const policies = template.Resources[role].Properties!.Policies as { PolicyDocument: { Statement: PolicyStatement[] } }[];
  let removed = 0;
  for (const policy of policies) {
    policy.PolicyDocument.Statement = policy.PolicyDocument.Statement.flatMap((s) => {
      const actions = Array.isArray(s.Action) ? s.Action : s.Action ? [s.Action] : [];
      if (!actions.includes(action)) return [s];
      removed += 1;
      const rest = actions.filter((a) => a !== action);
      return rest.length ? [{ ...s, Action: rest }] : [];
    });
  }
  if (!removed) throw new Error(`${functionId}'s role has no ${action} to remove`);
}

describe('IAM enforced by the local endpoint', () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'facewatch-iam-'));
  const lines: string[] = [];
  let stack: LocalStack;

  beforeAll(async () => {
    stack = await startLocalStack({
      dataDir,
      port: 0,
      apiPort: 0,
      mailPort: 0,
      quiet: true,
      print: (line) => lines.push(line),
      transformTemplate: (template) => withoutPermission(template, 'ConsumeFaceSearchLambdaFunction', 'dynamodb:PutItem'),
    });
  });
  afterAll(async () => {
    await stack?.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('the consumer without dynamodb:PutItem fails with AccessDeniedException; the operator is not limited', async () => {
    // Given a face-search record of the camera's stream
    const video = Object.values(stack.stackInfo.resources).find((r) => r.type === 'AWS::KinesisVideo::Stream')!;
    const record = faceSearchRecord({ streamArn: video.attributes.Arn, fragmentNumber: '1001', producerTimestamp: Math.floor(Date.now() / 1000), faces: [{ matches: [matchedFace('someone', 99)] }] });

    // When the consumer gets it
    const outcome = await stack.invoke('ConsumeFaceSearchLambdaFunction', kinesisEvent([Buffer.from(JSON.stringify(record)).toString('base64')]));

    // Then its sighting write was denied as on AWS, and the record reported as failed (to be retried)
    const sightingsTable = Object.entries(stack.stackInfo.resources).find(([id]) => /^SightingsTable$/.test(id))![1].ref;
    expect(lines.join('\n')).toContain(`IAM denied dynamodb:PutItem on arn:aws:dynamodb:us-east-1:000000000000:table/${sightingsTable} to arn:aws:sts::000000000000:assumed-role/`);
    // The function's log lines reach its file just after the invocation's answer: wait for them (a few seconds at most).
    const logFile = path.join(dataDir, 'logs', `${stack.stackInfo.functions.ConsumeFaceSearchLambdaFunction.name}.log`);
    let log = '';
    for (const deadline = Date.now() + 10_000; Date.now() < deadline; await new Promise((r) => setTimeout(r, 200))) {
      log = fs.existsSync(logFile) ? fs.readFileSync(logFile, 'utf8') : '';
      if (/is not authorized to perform: dynamodb:PutItem/.test(log)) break;
    }
    expect(log).toMatch(/AccessDeniedException/);
    expect(log).toMatch(/is not authorized to perform: dynamodb:PutItem/);
    expect(outcome.error ?? (outcome.result as { batchItemFailures: unknown[] }).batchItemFailures).toEqual(outcome.error ? expect.anything() : [expect.objectContaining({ itemIdentifier: expect.any(String) })]);

    // and the operator's own key may still write there
    const operator = new DynamoDBClient({ region: 'us-east-1', endpoint: stack.endpoint, credentials: { accessKeyId: 'test', secretAccessKey: 'test' }, requestHandler: new NodeHttpHandler() });
    await expect(operator.send(new PutItemCommand({ TableName: sightingsTable, Item: { sightingId: { S: 'by-operator' } } }))).resolves.toBeDefined();
  });
});
