/**
 * Stream processors: AWS's states (STOPPED, STARTING, RUNNING, FAILED, STOPPING, UPDATING) persisted in
 * <dataDir>/stream-processors.json. What a running processor does with the video is a pluggable runner:
 * start(processor, ctx) / stop(processor). The default runner does nothing (STARTING→RUNNING and
 * STOPPING→STOPPED are immediate). A runner may return promises (the state stays STARTING/STOPPING until
 * they settle; a rejection moves the processor to FAILED with the error as StatusMessage) and may report a
 * failure later through ctx.fail(message).
 */
import fs from 'node:fs';
import path from 'node:path';
import type { DescribeStreamProcessorResponse, StreamProcessorStatus } from '@aws-sdk/client-rekognition';
import { Mutex } from './store';

export interface StreamProcessorRecord {
  Name: string;
  StreamProcessorArn: string;
  Status: StreamProcessorStatus;
  StatusMessage?: string;
  CreationTimestamp: number;
  LastUpdateTimestamp: number;
  Input: DescribeStreamProcessorResponse['Input'];
  Output: DescribeStreamProcessorResponse['Output'];
  RoleArn: string;
  Settings: DescribeStreamProcessorResponse['Settings'];
  NotificationChannel?: DescribeStreamProcessorResponse['NotificationChannel'];
  KmsKeyId?: string;
  RegionsOfInterest?: DescribeStreamProcessorResponse['RegionsOfInterest'];
  DataSharingPreference?: DescribeStreamProcessorResponse['DataSharingPreference'];
  Tags?: Record<string, string>;
  SessionId?: string;
  Region: string;
}

export interface RunnerContext {
  sessionId: string;
  /** Moves the processor to FAILED (e.g. the video stream vanished). */
  fail(message: string): void;
}

export interface StreamProcessorRunner {
  start(processor: Readonly<StreamProcessorRecord>, ctx: RunnerContext): void | Promise<void>;
  stop(processor: Readonly<StreamProcessorRecord>): void | Promise<void>;
}

export const noopRunner: StreamProcessorRunner = {
  start: () => undefined,
  stop: () => undefined,
};

const isPromise = (v: unknown): v is Promise<void> => !!v && typeof (v as Promise<void>).then === 'function';

export class StreamProcessorStore {
  readonly processors = new Map<string, StreamProcessorRecord>();
  readonly lock = new Mutex();
  private readonly file: string;
  runner: StreamProcessorRunner;

  constructor(dataDir: string, runner: StreamProcessorRunner = noopRunner) {
    this.runner = runner;
    this.file = path.join(dataDir, 'stream-processors.json');
    if (fs.existsSync(this.file)) {
      const list = JSON.parse(fs.readFileSync(this.file, 'utf8')) as StreamProcessorRecord[];
      for (const p of list) this.processors.set(p.Name, p);
    }
  }

  /** After a restart: processors that were running are started again through the runner. */
  resume(): void {
    for (const p of this.processors.values()) {
      if (p.Status === 'STOPPING') this.setStatus(p, 'STOPPED');
      else if (p.Status === 'RUNNING' || p.Status === 'STARTING') {
        this.setStatus(p, 'STARTING');
        this.launch(p, p.SessionId ?? '');
      }
    }
  }

  save(): void {
    const tmp = `${this.file}.tmp`;
    fs.writeFileSync(tmp, JSON.stringify([...this.processors.values()], null, 2));
    fs.renameSync(tmp, this.file);
  }

  setStatus(p: StreamProcessorRecord, status: StreamProcessorStatus, message?: string): void {
    p.Status = status;
    p.StatusMessage = message;
    p.LastUpdateTimestamp = Date.now() / 1000;
    this.save();
  }

  /** Runs runner.start; STARTING → RUNNING (or FAILED). Synchronous runners finish before this returns. */
  launch(p: StreamProcessorRecord, sessionId: string): void {
    p.SessionId = sessionId;
    const ctx: RunnerContext = {
      sessionId,
      fail: (message) => {
        if (this.processors.get(p.Name) === p && p.SessionId === sessionId && p.Status !== 'STOPPED') this.setStatus(p, 'FAILED', message);
      },
    };
    const done = () => {
      if (this.processors.get(p.Name) === p && p.Status === 'STARTING' && p.SessionId === sessionId) this.setStatus(p, 'RUNNING');
    };
    const failed = (err: unknown) => {
      if (this.processors.get(p.Name) === p && p.SessionId === sessionId) this.setStatus(p, 'FAILED', err instanceof Error ? err.message : String(err));
    };
    try {
      const r = this.runner.start(p, ctx);
      if (isPromise(r)) r.then(done, failed);
      else done();
    } catch (err) {
      failed(err);
    }
  }

  /** Runs runner.stop; STOPPING → STOPPED. */
  halt(p: StreamProcessorRecord): void {
    const done = () => {
      if (this.processors.get(p.Name) === p && p.Status === 'STOPPING') this.setStatus(p, 'STOPPED');
    };
    try {
      const r = this.runner.stop(p);
      if (isPromise(r)) r.then(done, (err) => this.setStatus(p, 'FAILED', err instanceof Error ? err.message : String(err)));
      else done();
    } catch (err) {
      this.setStatus(p, 'FAILED', err instanceof Error ? err.message : String(err));
    }
  }
}
