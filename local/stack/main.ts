/**
 * `npm start`: the whole service on 127.0.0.1 (see docs/local-stack.md).
 *   npm start -- [--port 4566] [--api-port 3000] [--mail-port 1080] [--data-dir .facewatch] [--reset]
 *                [--param key=value]... [--quiet] [--verbose]
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { PortInUseError } from './backends';
import { endChildren, killChildrenNow, StackAlreadyRunningError, STOP_GRACE_MS } from './lifecycle';
import { startLocalStack, type LocalStack } from './stack';

const usage = `usage: npm start -- [--port 4566] [--api-port 3000] [--mail-port 1080] [--data-dir .facewatch] [--reset] [--param key=value]... [--quiet] [--verbose]`;

function port(value: string | undefined, fallback: number, option: string): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65_535) {
    console.error(`${option} must be a port number from 0 to 65535, got "${value}"`);
    process.exit(2);
  }
  return n;
}

async function main(): Promise<void> {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        port: { type: 'string' },
        'api-port': { type: 'string' },
        'mail-port': { type: 'string' },
        'data-dir': { type: 'string' },
        reset: { type: 'boolean', default: false },
        param: { type: 'string', multiple: true },
        quiet: { type: 'boolean', default: false },
        verbose: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }));
  } catch (error) {
    console.error(`${(error as Error).message}\n${usage}`);
    process.exit(2);
  }
  if (values.help) {
    console.log(usage);
    return;
  }
  const params: Record<string, string> = {};
  for (const p of values.param ?? []) {
    const eq = p.indexOf('=');
    if (eq <= 0) {
      console.error(`--param expects key=value, got "${p}"`);
      process.exit(2);
    }
    params[p.slice(0, eq)] = p.slice(eq + 1);
  }

  // Signals are handled from the first moment: a SIGTERM while starting (a process manager, `timeout`, a
  // closed terminal) ends the children started so far, which a default exit would leave running.
  let stack: LocalStack | undefined;
  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) {
      console.log('Stopping already; press Ctrl-C again in a few seconds to force.');
      setTimeout(() => {
        killChildrenNow();
        process.exit(130);
      }, 3000).unref();
      return;
    }
    stopping = true;
    console.log(`\n${signal}: stopping the local stack…`);
    // Whatever happens, nothing is left after 10 s: children get SIGTERM, SIGKILL after the grace period.
    setTimeout(() => {
      console.error('Stopping took too long: killing what is left.');
      killChildrenNow();
      process.exit(1);
    }, STOP_GRACE_MS + 2_000).unref();
    try {
      if (stack) await stack.stop();
      else await endChildren();
      console.log('Stopped.');
      process.exit(signal === 'SIGINT' ? 130 : 143);
    } catch (error) {
      console.error('Stopping failed:', error);
      killChildrenNow();
      process.exit(1);
    }
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGHUP', () => void shutdown('SIGHUP'));
  process.on('exit', killChildrenNow);

  const started = Date.now();
  console.log('Starting the facewatch local stack…');
  try {
    stack = await startLocalStack({
      port: port(values.port, 4566, '--port'),
      apiPort: port(values['api-port'], 3000, '--api-port'),
      mailPort: port(values['mail-port'], 1080, '--mail-port'),
      dataDir: values['data-dir'],
      reset: values.reset,
      quiet: values.quiet,
      verbose: values.verbose,
      params,
    });
  } catch (error) {
    if (stopping) return; // a signal came while starting: shutdown() ends it
    const known = error instanceof PortInUseError || error instanceof StackAlreadyRunningError || (error instanceof Error && /already in use/.test(error.message));
    console.error(known ? (error as Error).message : error);
    killChildrenNow();
    process.exit(1);
  }
  if (stopping) {
    await stack.stop();
    return;
  }

  const info = stack.stackInfo;
  const bucket = Object.values(info.resources).find((r) => r.type === 'AWS::S3::Bucket')?.ref;
  const stream = Object.values(info.resources).find((r) => r.type === 'AWS::Kinesis::Stream')?.ref;
  const rel = (p: string) => path.relative(process.cwd(), p) || '.';
  console.log(
    [
      '',
      `facewatch is running locally (ready in ${((Date.now() - started) / 1000).toFixed(1)} s)`,
      `  AWS endpoint   ${stack.endpoint}   (any AWS client: --endpoint-url ${stack.endpoint})`,
      `  Console        ${stack.consoleUrl}#token=${stack.token}   (the operator console, logged in)`,
      `  HTTP API       ${stack.apiUrl}   (token in ${rel(info.tokenFile)})`,
      `  Mail           ${stack.mailUrl}   (email alerts)`,
      `  Data           ${rel(info.dataDir)}/   (stack.json, outbox/, logs/)`,
      '',
      'Try:',
      `  ${info.credentials.hint}`,
      ...(bucket ? [`  aws --endpoint-url ${stack.endpoint} s3 cp photo.jpg "s3://${bucket}/faces/Ada Lovelace/1.jpg"    # register a face`] : []),
      `  curl -H "Authorization: Bearer $(cat ${rel(info.tokenFile)})" ${stack.apiUrl}/people    # then /sightings`,
      ...(stream ? [`  aws --endpoint-url ${stack.endpoint} kinesis put-record --stream-name ${stream} --partition-key x --data fileb://record.json`] : []),
      `  (a face-search record to put: docs/local-stack.md; the mail page shows email alerts, the console SMS ones)`,
      '',
      'Ctrl-C stops everything; data stays in the data dir (npm start -- --reset starts clean).',
    ].join('\n'),
  );

}

void main();
