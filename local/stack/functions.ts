/**
 * Local Lambda functions: each runs in its own child process (its own environment, module state and
 * memory limit, like a Lambda sandbox), invoked one event at a time over IPC with a Lambda-like
 * context. The declared timeout is enforced by killing the process, after which the next invocation
 * cold-starts a new one, as Lambda does.
 */
import { ChildProcess, fork } from 'node:child_process';
import { track } from './lifecycle';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { projectRoot } from '../project-root';

export interface FunctionDefinition {
  logicalId: string;
  /** The deployed name, e.g. facewatch-local-indexFace. */
  name: string;
  arn: string;
  handler: string;
  timeoutSeconds: number;
  memoryMb: number;
  environment: Record<string, string>;
  /** Directory holding the extracted bundle (LAMBDA_TASK_ROOT). */
  codeDir: string;
}

export interface InvocationError {
  errorType: string;
  errorMessage: string;
  trace?: string[];
}

export interface InvocationResult {
  requestId: string;
  durationMs: number;
  result?: unknown;
  /** Set when the function failed (threw, timed out, crashed). */
  error?: InvocationError;
}

export interface FunctionLogger {
  /** One line the function (or the runtime around it) printed. */
  line(functionName: string, text: string): void;
}


export const RUNTIME_SCRIPT = path.join(projectRoot(), 'local', 'stack', 'lambda-runtime.js');

interface Pending {
  id: string;
  resolve: (outcome: { result?: unknown; error?: InvocationError }) => void;
}

export class LocalFunction {
  private child?: ChildProcess;
  private ready?: Promise<void>;
  private pending?: Pending;
  private queue: Promise<unknown> = Promise.resolve();
  private stopped = false;

  constructor(
    readonly definition: FunctionDefinition,
    private readonly baseEnvironment: Record<string, string>,
    private readonly logger: FunctionLogger,
  ) {}

  /** Invokes the function with an event; invocations of one function run one after another. */
  invoke(event: unknown): Promise<InvocationResult> {
    const run = this.queue.then(() => this.run(event));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private environment(): Record<string, string> {
    const d = this.definition;
    return {
      PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
      LANG: 'en_US.UTF-8',
      TZ: 'UTC',
      ...this.baseEnvironment,
      AWS_LAMBDA_FUNCTION_NAME: d.name,
      AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(d.memoryMb),
      AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${d.name}`,
      AWS_LAMBDA_LOG_STREAM_NAME: `local/[$LATEST]${randomUUID().replace(/-/g, '')}`,
      AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
      AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs24.x',
      LAMBDA_TASK_ROOT: d.codeDir,
      _HANDLER: d.handler,
      ...d.environment,
    };
  }

  private start(): Promise<void> {
    if (this.ready) return this.ready;
    const d = this.definition;
    const child = fork(RUNTIME_SCRIPT, [], {
      cwd: d.codeDir,
      env: this.environment(),
      // The memory size caps the heap, as the sandbox's memory caps the whole process on AWS.
      execArgv: [`--max-old-space-size=${Math.max(128, d.memoryMb)}`],
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      serialization: 'advanced',
      // Its own process group: a Ctrl-C reaches only the stack, which stops the functions after their
      // current invocation; the runtime exits by itself when the stack's IPC channel closes.
      detached: true,
    });
    this.child = child;
    track(child, `function ${d.name}`);
    for (const stream of [child.stdout!, child.stderr!]) {
      let partial = '';
      stream.setEncoding('utf8');
      stream.on('data', (chunk: string) => {
        const lines = (partial + chunk).split('\n');
        partial = lines.pop() ?? '';
        for (const line of lines) this.logger.line(d.name, line);
      });
      stream.on('end', () => partial && this.logger.line(d.name, partial));
    }
    this.ready = new Promise<void>((resolve, reject) => {
      child.on('message', (message: { type: string; id?: string; result?: unknown; error?: InvocationError; fatal?: boolean }) => {
        if (message.type === 'ready') resolve();
        else if (message.type === 'init-error') {
          const error = message.error!;
          this.logger.line(d.name, `INIT_REPORT Status: error ${error.errorType}: ${error.errorMessage}`);
          reject(Object.assign(new Error(error.errorMessage), { invocationError: error }));
        } else if (message.type === 'done' && this.pending?.id === message.id) {
          const pending = this.pending!;
          this.pending = undefined;
          pending.resolve({ result: message.result, error: message.error });
          if (message.fatal) this.recycle();
        }
      });
      child.on('exit', (code, signal) => {
        if (this.child === child) {
          this.child = undefined;
          this.ready = undefined;
        }
        reject(new Error(`the function's process exited during init (code ${code}, signal ${signal})`));
        if (this.pending) {
          const pending = this.pending;
          this.pending = undefined;
          pending.resolve({ error: { errorType: 'Runtime.ExitError', errorMessage: `RequestId: ${pending.id} Error: Runtime exited with ${signal ? `signal: ${signal}` : `error: exit status ${code}`}` } });
        }
      });
    });
    // A failed init discards the sandbox; the next invocation tries again.
    this.ready.catch(() => this.recycle());
    return this.ready;
  }

  private recycle(): void {
    const child = this.child;
    this.child = undefined;
    this.ready = undefined;
    if (child && child.exitCode === null) child.kill('SIGKILL');
  }

  private async run(event: unknown): Promise<InvocationResult> {
    const d = this.definition;
    const requestId = randomUUID();
    const started = Date.now();
    if (this.stopped) return { requestId, durationMs: 0, error: { errorType: 'ServiceException', errorMessage: `Function ${d.name} is stopped` } };
    this.logger.line(d.name, `START RequestId: ${requestId} Version: $LATEST`);
    const deadline = started + d.timeoutSeconds * 1000;
    let outcome: { result?: unknown; error?: InvocationError };
    try {
      // Lambda counts init within the first invocation's timeout budget only loosely; here init is not counted.
      await this.start();
      outcome = await new Promise((resolve) => {
        const timer = setTimeout(() => {
          if (this.pending?.id !== requestId) return;
          this.pending = undefined;
          this.recycle();
          resolve({ error: { errorType: 'Sandbox.Timedout', errorMessage: `RequestId: ${requestId} Error: Task timed out after ${d.timeoutSeconds.toFixed(2)} seconds` } });
        }, d.timeoutSeconds * 1000);
        this.pending = {
          id: requestId,
          resolve: (o) => {
            clearTimeout(timer);
            resolve(o);
          },
        };
        const context = {
          awsRequestId: requestId,
          functionName: d.name,
          functionVersion: '$LATEST',
          invokedFunctionArn: d.arn,
          memoryLimitInMB: String(d.memoryMb),
          logGroupName: `/aws/lambda/${d.name}`,
          logStreamName: `local/${d.logicalId}`,
          deadline: Date.now() + d.timeoutSeconds * 1000,
        };
        this.child!.send({ type: 'invoke', id: requestId, event, context });
      });
    } catch (error) {
      const initError = (error as { invocationError?: InvocationError }).invocationError;
      outcome = { error: initError ?? { errorType: 'Runtime.Unknown', errorMessage: error instanceof Error ? error.message : String(error) } };
    }
    const durationMs = Date.now() - started;
    if (outcome.error) this.logger.line(d.name, `ERROR ${outcome.error.errorType}: ${outcome.error.errorMessage}`);
    this.logger.line(d.name, `END RequestId: ${requestId}`);
    this.logger.line(d.name, `REPORT RequestId: ${requestId} Duration: ${durationMs} ms Memory Size: ${d.memoryMb} MB${Date.now() > deadline ? ' Status: timeout' : ''}`);
    return { requestId, durationMs, ...outcome };
  }

  async stop(): Promise<void> {
    this.stopped = true;
    const child = this.child;
    this.recycle();
    if (child && child.exitCode === null && child.signalCode === null) await new Promise((r) => child.once('exit', r));
  }
}

/** Writes function output to one log file per function, and to the console unless quiet. */
export function fileLogger(logDir: string, echo: ((line: string) => void) | undefined): FunctionLogger & { close(): void } {
  fs.mkdirSync(logDir, { recursive: true });
  const files = new Map<string, fs.WriteStream>();
  return {
    line(functionName, text) {
      let file = files.get(functionName);
      if (!file) {
        file = fs.createWriteStream(path.join(logDir, `${functionName}.log`), { flags: 'a' });
        files.set(functionName, file);
      }
      file.write(`${new Date().toISOString()} ${text}\n`);
      echo?.(`[${functionName}] ${text}`);
    },
    close() {
      for (const f of files.values()) f.end();
    },
  };
}
