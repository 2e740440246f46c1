import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { ChangeMessageVisibilityCommand, DeleteMessageCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { SingleBar, Presets } from 'cli-progress';
import type { Command } from 'commander';
import { CliError, type CliContext } from '../context';

const PHOTO = /\.(jpe?g|png)$/i;

/** Photos named on the command line: files as given, folders expanded to the JPEG/PNG files they hold. */
export function collectPhotos(paths: string[]): string[] {
  const photos: string[] = [];
  for (const given of paths) {
    let stat;
    try {
      stat = statSync(given);
    } catch {
      throw new CliError(`No such file or folder: ${given}`);
    }
    if (stat.isDirectory()) {
      const inside = readdirSync(given)
        .filter((name) => PHOTO.test(name))
        .sort()
        .map((name) => path.join(given, name));
      if (inside.length === 0) throw new CliError(`Folder ${given} holds no .jpg, .jpeg or .png file`);
      photos.push(...inside);
    } else if (PHOTO.test(given)) {
      photos.push(given);
    } else {
      throw new CliError(`${given} is not a .jpg, .jpeg or .png photo`);
    }
  }
  return photos;
}

export function registerPhotoCommands(program: Command, context: () => CliContext): void {
  program
    .command('add')
    .description("register a person's face: upload photo(s) or a folder of photos to faces/<person>/")
    .argument('<person>', 'the person\'s name as it should appear in alerts (any characters, e.g. "José María")')
    .argument('<photos...>', 'photo files (.jpg/.jpeg/.png) or folders of them')
    .action(async (person: string, paths: string[]) => {
      const ctx = context();
      if (!ctx.facesBucket) throw new CliError('No faces bucket known: start the stack with `npm start` (it writes .facewatch/stack.json).');
      if (person.includes('/')) throw new CliError('A person name cannot contain "/": it is one folder under faces/.');
      const photos = collectPhotos(paths);
      const s3 = new S3Client({
        endpoint: ctx.endpoint,
        region: ctx.region,
        credentials: ctx.credentials,
        forcePathStyle: true,
        requestChecksumCalculation: 'WHEN_REQUIRED',
      });
      const bar = photos.length > 1 && process.stdout.isTTY ? new SingleBar({ format: ' {bar} {value}/{total} {file}' }, Presets.shades_classic) : undefined;
      bar?.start(photos.length, 0, { file: '' });
      for (const [i, photo] of photos.entries()) {
        const key = `faces/${person}/${path.basename(photo)}`;
        await s3.send(
          new PutObjectCommand({
            Bucket: ctx.facesBucket,
            Key: key,
            Body: readFileSync(photo),
            ContentType: /\.png$/i.test(photo) ? 'image/png' : 'image/jpeg',
          }),
        );
        if (bar) bar.update(i + 1, { file: path.basename(photo) });
        else console.log(`uploaded s3://${ctx.facesBucket}/${key}`);
      }
      bar?.stop();
      console.log(`${photos.length} photo(s) of ${person} uploaded; see them with \`npx facewatch people\`.`);
    });
}

/** One kept photo event: the S3 notification indexFace gave up on, and why. */
export interface KeptPhotoEvent {
  receiptHandle: string;
  keys: string[];
  error: string;
  event: unknown;
}

export interface ReplayPorts {
  sqs: SQSClient;
  lambda: LambdaClient;
  queueUrl: string;
  functionName: string;
  log: (line: string) => void;
}

/** Reads the dead-letter queue to the end (each message stays hidden while we work on it). */
async function keptEvents(ports: Pick<ReplayPorts, 'sqs' | 'queueUrl'>): Promise<KeptPhotoEvent[]> {
  const kept: KeptPhotoEvent[] = [];
  for (;;) {
    const { Messages = [] } = await ports.sqs.send(new ReceiveMessageCommand({ QueueUrl: ports.queueUrl, MaxNumberOfMessages: 10, VisibilityTimeout: 300, WaitTimeSeconds: 0 }));
    if (Messages.length === 0) return kept;
    for (const message of Messages) {
      let record: { requestPayload?: { Records?: { s3?: { object?: { key?: string } } }[] }; responsePayload?: { errorType?: string; errorMessage?: string } };
      try {
        record = JSON.parse(message.Body ?? '');
      } catch {
        record = {};
      }
      kept.push({
        receiptHandle: message.ReceiptHandle!,
        keys: (record.requestPayload?.Records ?? []).map((r) => decodeURIComponent((r.s3?.object?.key ?? '?').replace(/\+/g, ' '))),
        error: `${record.responsePayload?.errorType ?? 'unknown error'}: ${record.responsePayload?.errorMessage ?? ''}`.trim(),
        event: record.requestPayload,
      });
    }
  }
}

/**
 * Sends each kept photo event to indexFace again, synchronously; an event that now succeeds leaves the queue,
 * one that fails again stays (with the new error printed). Replaying is safe: indexing is idempotent per photo.
 */
export async function replayPhotoEvents(ports: ReplayPorts, dryRun: boolean): Promise<{ kept: number; replayed: number; failed: number }> {
  const kept = await keptEvents(ports);
  let replayed = 0;
  let failed = 0;
  for (const item of kept) {
    const what = `${item.keys.join(', ') || '(no S3 record)'} — failed with ${item.error}`;
    if (dryRun || item.event === undefined) {
      ports.log(`${dryRun ? 'kept' : 'unreadable, left in the queue'}: ${what}`);
      if (!dryRun) failed += 1;
      continue;
    }
    const result = await ports.lambda.send(new InvokeCommand({ FunctionName: ports.functionName, Payload: Buffer.from(JSON.stringify(item.event)) }));
    if (result.FunctionError) {
      failed += 1;
      const payload = result.Payload ? Buffer.from(result.Payload).toString('utf8') : '';
      ports.log(`failed again, left in the queue: ${item.keys.join(', ')}: ${payload}`);
      continue;
    }
    await ports.sqs.send(new DeleteMessageCommand({ QueueUrl: ports.queueUrl, ReceiptHandle: item.receiptHandle }));
    replayed += 1;
    ports.log(`replayed: ${item.keys.join(', ')}`);
  }
  // Make what was only looked at (or failed again) visible again at once, for the next replay.
  if (dryRun || failed > 0) {
    for (const item of kept) {
      await ports.sqs.send(new ChangeMessageVisibilityCommand({ QueueUrl: ports.queueUrl, ReceiptHandle: item.receiptHandle, VisibilityTimeout: 0 })).catch(() => undefined);
    }
  }
  return { kept: kept.length, replayed, failed };
}

export function registerPhotoReplayCommand(program: Command, context: () => CliContext): void {
  const photos = program.commands.find((c) => c.name() === 'photos') ?? program.command('photos').description('photo events indexFace gave up on');
  photos
    .command('replay')
    .description('send the photo events indexFace gave up on (its dead-letter queue) to indexFace again')
    .option('--dry-run', 'only list the kept events and their errors')
    .option('--aws', 'talk to AWS with the usual credentials chain instead of the local stack')
    .option('--queue-url <url>', 'the photo-events dead-letter queue (default: from the local stack)')
    .option('--function-name <name>', 'indexFace\'s function name (default: from the local stack)')
    .action(async (options: { dryRun?: boolean; aws?: boolean; queueUrl?: string; functionName?: string }) => {
      const ctx = context();
      const queueUrl = options.queueUrl ?? ctx.resources.PhotoEventsDLQ;
      const functionName = options.functionName ?? ctx.resources.IndexFaceLambdaFunction;
      if (!queueUrl || !functionName) {
        throw new CliError('No photo-events queue or indexFace function known: start the stack with `npm start`, or give --queue-url and --function-name (see the stack outputs on AWS).');
      }
      const clientConfig = options.aws ? { region: ctx.region } : { endpoint: ctx.endpoint, region: ctx.region, credentials: ctx.credentials };
      const result = await replayPhotoEvents({ sqs: new SQSClient(clientConfig), lambda: new LambdaClient(clientConfig), queueUrl, functionName, log: (line) => console.log(line) }, Boolean(options.dryRun));
      console.log(
        options.dryRun
          ? `${result.kept} photo event(s) kept; run without --dry-run to replay them.`
          : `${result.replayed} of ${result.kept} photo event(s) replayed; ${result.failed} left in the queue.`,
      );
      if (result.failed > 0) process.exitCode = 1;
    });
}
