/** Local functions in their own processes: environment, context, timeout, crashes, init errors, the Lambda API. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { LocalFunction, type FunctionDefinition, type FunctionLogger } from '../../../local/stack/functions';
import { startLambdaApi } from '../../../local/stack/lambda-api';

jest.setTimeout(30_000);

const HANDLERS = `
let invocations = 0;
exports.echo = async (event, context) => ({
  event,
  invocations: ++invocations,
  env: { TABLE: process.env.TABLE, REGION: process.env.AWS_REGION, NAME: process.env.AWS_LAMBDA_FUNCTION_NAME, LEAK: process.env.NOT_FOR_FUNCTIONS },
  context: { functionName: context.functionName, awsRequestId: context.awsRequestId, remaining: context.getRemainingTimeInMillis() },
  cwd: process.cwd(),
});
exports.slow = () => new Promise((resolve) => setTimeout(() => resolve('late'), 5000));
exports.fails = async () => { const e = new Error('no such person'); e.name = 'NotFoundError'; throw e; };
exports.crashes = async () => { process.exit(3); };
exports.callback = (event, context, callback) => { setTimeout(() => callback(null, { via: 'callback' }), 10); };
`;

describe('LocalFunction', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'facewatch-functions-'));
  const lines: string[] = [];
  const logger: FunctionLogger = { line: (name, text) => lines.push(`${name} ${text}`) };
  const started: LocalFunction[] = [];
  fs.mkdirSync(path.join(dir, 'code', 'functions', 'demo'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'code', 'functions', 'demo', 'handler.js'), HANDLERS);

  const make = (handler: string, overrides: Partial<FunctionDefinition> = {}) => {
    const fn = new LocalFunction(
      {
        logicalId: 'Demo',
        name: `svc-local-${handler}`,
        arn: `arn:aws:lambda:us-east-1:000000000000:function:svc-local-${handler}`,
        handler: `functions/demo/handler.${handler}`,
        timeoutSeconds: 3,
        memoryMb: 256,
        environment: { TABLE: 'people' },
        codeDir: path.join(dir, 'code'),
        ...overrides,
      },
      { AWS_REGION: 'us-east-1' },
      logger,
    );
    started.push(fn);
    return fn;
  };

  beforeAll(() => {
    process.env.NOT_FOR_FUNCTIONS = 'secret';
  });

  afterAll(async () => {
    delete process.env.NOT_FOR_FUNCTIONS;
    await Promise.all(started.map((f) => f.stop()));
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('runs the handler with its own environment (not the parent\'s) and a Lambda-like context, keeping module state warm', async () => {
    // Given a function whose environment names a table, while the parent has a variable of its own
    const fn = make('echo');

    // When it is invoked twice
    const first = await fn.invoke({ hello: 'world' });
    const second = await fn.invoke({});

    // Then it saw its event, only its environment, a Lambda context and its code's folder; its module state stayed warm; its log has START
    expect(first.error).toBeUndefined();
    expect(first.result).toMatchObject({
      event: { hello: 'world' },
      invocations: 1,
      env: { TABLE: 'people', REGION: 'us-east-1', NAME: 'svc-local-echo' },
      context: { functionName: 'svc-local-echo', awsRequestId: first.requestId },
      cwd: path.join(dir, 'code'),
    });
    expect((first.result as { env: Record<string, unknown> }).env.LEAK).toBeUndefined();
    expect((first.result as { context: { remaining: number } }).context.remaining).toBeGreaterThan(2000);
    expect(second.result).toMatchObject({ invocations: 2 });
    expect(lines).toContain(`svc-local-echo START RequestId: ${first.requestId} Version: $LATEST`);
  });

  test('a handler slower than its timeout is stopped and reported as timed out; the next invocation cold-starts', async () => {
    // Given a handler that takes 5 s with a timeout of 1 s
    const fn = make('slow', { timeoutSeconds: 1 });

    // When it is invoked
    const outcome = await fn.invoke({});

    // Then it is stopped within the timeout and reported as timed out
    expect(outcome.error?.errorType).toBe('Sandbox.Timedout');
    expect(outcome.error?.errorMessage).toMatch(/Task timed out after 1.00 seconds/);
    expect(outcome.durationMs).toBeLessThan(3000);
  });

  test('a thrown error, a crashed process and a missing export are invocation errors, and the function recovers', async () => {
    // When a handler throws, then the error is its type and message
    expect((await make('fails').invoke({})).error).toMatchObject({ errorType: 'NotFoundError', errorMessage: 'no such person' });
    // When a handler exits its process, then each invocation is an exit error (the process starts again)
    const crashing = make('crashes');
    expect((await crashing.invoke({})).error?.errorType).toBe('Runtime.ExitError');
    expect((await crashing.invoke({})).error?.errorType).toBe('Runtime.ExitError');
    // When the export does not exist, then the handler is not found; a callback handler answers through its callback
    expect((await make('missing').invoke({})).error?.errorType).toBe('Runtime.HandlerNotFound');
    expect((await make('callback').invoke({})).result).toEqual({ via: 'callback' });
  });

  test('the Lambda API invokes them as LambdaClient does (RequestResponse, Event, errors)', async () => {
    // Given a function that answers and one that throws, behind the Lambda API
    const echo = make('echo');
    const fails = make('fails');
    const api = await startLambdaApi({ functions: () => [echo, fails], retryDelaysMs: [] });
    const client = new LambdaClient({ region: 'us-east-1', endpoint: api.url, credentials: { accessKeyId: 'x', secretAccessKey: 'x' }, requestHandler: new NodeHttpHandler() });
    try {
      // When invoked by ARN, then the payload is its answer
      const sync = await client.send(new InvokeCommand({ FunctionName: echo.definition.arn, Payload: Buffer.from('{"n":1}') }));
      expect(JSON.parse(Buffer.from(sync.Payload!).toString())).toMatchObject({ event: { n: 1 } });

      // When the function throws, then it is an Unhandled function error with its type
      const failed = await client.send(new InvokeCommand({ FunctionName: 'svc-local-fails' }));
      expect(failed.FunctionError).toBe('Unhandled');
      expect(JSON.parse(Buffer.from(failed.Payload!).toString())).toMatchObject({ errorType: 'NotFoundError' });

      // When invoked as an Event, then it is accepted (202); an unknown function is not found
      const async = await client.send(new InvokeCommand({ FunctionName: 'svc-local-echo', InvocationType: 'Event', Payload: Buffer.from('{"n":2}') }));
      expect(async.StatusCode).toBe(202);
      await expect(client.send(new InvokeCommand({ FunctionName: 'nope' }))).rejects.toThrow(/Function not found/);
    } finally {
      await api.close();
    }
  });
});
