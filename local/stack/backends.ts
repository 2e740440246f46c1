/**
 * Starting the local services the stack serves behind its single endpoint: the npm emulators (s3rver,
 * dynalite, kinesalite), the mail catcher (maildev, in its own process: it is an ES module and keeps
 * its own event loop), and the helpers for free ports and clear "port in use" errors.
 */
import { ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { holderOf, track } from './lifecycle';

export interface Running {
  url: string;
  port: number;
  close(): Promise<void>;
}

export class PortInUseError extends Error {
  override readonly name = 'PortInUseError';
  constructor(
    readonly port: number,
    readonly what: string,
    readonly option: string,
  ) {
    const holder = holderOf(port);
    const by = holder ? `, by pid ${holder.pid} (${holder.cmdline.length > 160 ? `${holder.cmdline.slice(0, 157)}...` : holder.cmdline})` : '';
    super(`Port ${port} (${what}) is already in use on 127.0.0.1${by}. Stop what uses it${holder ? ` (kill ${holder.pid})` : ''}, or choose another port with ${option} <port>.`);
  }
}

/** Fails with PortInUseError when the port cannot be bound on 127.0.0.1 (port 0 always can). */
export async function assertPortFree(port: number, what: string, option: string): Promise<void> {
  if (!port) return;
  await new Promise<void>((resolve, reject) => {
    const server = net.createServer();
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(error.code === 'EADDRINUSE' || error.code === 'EACCES' ? new PortInUseError(port, what, option) : error),
    );
    server.listen(port, '127.0.0.1', () => server.close(() => resolve()));
  });
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

function closeServer(server: http.Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections?.();
  });
}

/**
 * Any access key works against the local endpoint (LocalStack's convention: `test`/`test` is the usual one).
 * s3rver knows one key pair, S3RVER, and answers InvalidAccessKeyId to any other: its key registry (a Map on
 * s3rver/lib/models/account.js, read at each request) is made to answer its one account for every key.
 */
function acceptAnyS3Key(): void {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const AWSAccount = require('s3rver/lib/models/account') as { registry: Map<string, unknown>; DUMMY_ACCOUNT: unknown };
  if ((AWSAccount.registry as { anyKey?: boolean }).anyKey) return;
  const known = AWSAccount.registry;
  AWSAccount.registry = Object.assign(
    new (class extends Map<string, unknown> {
      override get(key: string) {
        return super.get(key) ?? AWSAccount.DUMMY_ACCOUNT;
      }
    })(known),
    { anyKey: true },
  );
}

export async function startS3(directory: string, onEvent: (event: unknown) => void): Promise<Running> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const S3rver = require('s3rver');
  acceptAnyS3Key();
  fs.mkdirSync(directory, { recursive: true });
  // SigV4 signatures are not verified by s3rver (SigV2 ones are: any key may sign them, as for every service here).
  const s3rver = new S3rver({ address: '127.0.0.1', port: 0, directory, silent: true, vhostBuckets: false, allowMismatchedSignatures: true });
  s3rver.on('event', onEvent);
  const address = (await s3rver.run()) as { port: number };
  return {
    url: `http://127.0.0.1:${address.port}`,
    port: address.port,
    close: () => s3rver.close() as Promise<void>,
  };
}

async function listenEmulator(server: http.Server): Promise<Running> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as net.AddressInfo;
  return { url: `http://127.0.0.1:${port}`, port, close: () => closeServer(server) };
}

export async function startDynamoDb(directory: string): Promise<Running> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const dynalite = require('dynalite');
  fs.mkdirSync(directory, { recursive: true });
  return listenEmulator(dynalite({ path: directory, createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 }));
}

export async function startKinesis(directory: string): Promise<Running> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const kinesalite = require('kinesalite');
  fs.mkdirSync(directory, { recursive: true });
  return listenEmulator(kinesalite({ path: directory, createStreamMs: 0, deleteStreamMs: 0, updateStreamMs: 0, shardLimit: 100 }));
}

export interface MailCatcher extends Running {
  smtp: { host: string; port: number };
}

/** maildev with its web page and SMTP on 127.0.0.1 only; mails persist in `directory`. */
export async function startMailCatcher(root: string, directory: string, webPort: number, log: (line: string) => void): Promise<MailCatcher> {
  const bin = path.join(root, 'node_modules', 'maildev', 'dist', 'bin', 'maildev.js');
  if (!fs.existsSync(bin)) throw new Error(`maildev is not installed (${bin} is missing): run npm ci first`);
  fs.mkdirSync(directory, { recursive: true });
  const smtpPort = await freePort();
  const web = webPort || (await freePort());
  await assertPortFree(web, 'mail web page', '--mail-port');
  const child: ChildProcess = spawn(
    process.execPath,
    [bin, '--smtp', String(smtpPort), '--ip', '127.0.0.1', '--web', String(web), '--web-ip', '127.0.0.1', '--mail-directory', directory, '--silent'],
    // Its own process group: a Ctrl-C in the terminal reaches only the stack, which then stops it in order.
    { cwd: directory, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NODE_OPTIONS: '' }, detached: true },
  );
  track(child, 'mail catcher (maildev)');
  // If the stack exits without stopping it (an uncaught error), do not leave it running.
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  const output: string[] = [];
  child.stdout!.on('data', (d: Buffer) => output.push(d.toString()));
  child.stderr!.on('data', (d: Buffer) => output.push(d.toString()));
  const exited = new Promise<never>((_, reject) =>
    child.once('exit', (code) => reject(new Error(`maildev exited (code ${code}) while starting: ${output.join('').trim()}`))),
  );
  const ready = (async () => {
    for (let i = 0; i < 200; i++) {
      if ((await canConnect(web)) && (await canConnect(smtpPort))) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`maildev did not open ports ${web}/${smtpPort} within 20 s: ${output.join('').trim()}`);
  })();
  try {
    await Promise.race([ready, exited]);
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
  let closing = false;
  exited.catch(() => closing || log('the mail catcher (maildev) stopped unexpectedly: email alerts are not delivered'));
  return {
    url: `http://127.0.0.1:${web}`,
    port: web,
    smtp: { host: '127.0.0.1', port: smtpPort },
    close: async () => {
      closing = true;
      process.off('exit', killOnExit);
      if (child.exitCode !== null || child.signalCode !== null) return;
      const gone = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
      await gone;
      clearTimeout(timer);
    },
  };
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
