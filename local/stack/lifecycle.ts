/**
 * The local stack's own processes: every child it starts (the mail catcher, each function's process) is
 * tracked here and listed in <dataDir>/stack.pid with the stack's own pid, so that
 * - a stop (SIGINT/SIGTERM to the stack or to its process group) ends every child: SIGTERM first, SIGKILL
 *   after a grace period, all within 10 s — children run in process groups of their own (a Ctrl-C must not
 *   reach them before the stack stops them in order), so only the stack can end them;
 * - a start after the stack was killed with SIGKILL (no chance to clean up) ends the leftovers the pid file
 *   names — only those still running the same command line, so a reused pid is never touched;
 * - a port still held by something else is named: pid and command line of the process that listens on it.
 */
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

/** How long children get to exit after SIGTERM before SIGKILL (the whole stop stays under 10 s). */
export const STOP_GRACE_MS = 7_000;

export interface TrackedProcess {
  pid: number;
  what: string;
  /** /proc/<pid>/cmdline when it started (to tell a leftover from a process that reused its pid). */
  cmdline: string;
}

export interface PidFile {
  pid: number;
  cmdline: string;
  dataDir: string;
  startedAt: string;
  children: TrackedProcess[];
}

const tracked = new Map<number, { child: ChildProcess; entry: TrackedProcess }>();
let pidFile: string | undefined;
let dataDirOfFile: string | undefined;

export function cmdlineOf(pid: number): string | undefined {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0+$/, '').replace(/\0/g, ' ');
  } catch {
    return undefined;
  }
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function writePidFile(): void {
  if (!pidFile) return;
  const content: PidFile = {
    pid: process.pid,
    cmdline: cmdlineOf(process.pid) ?? process.argv.join(' '),
    dataDir: dataDirOfFile!,
    startedAt: new Date().toISOString(),
    children: [...tracked.values()].map((t) => t.entry),
  };
  try {
    const temporary = `${pidFile}.tmp`;
    fs.writeFileSync(temporary, JSON.stringify(content, null, 2));
    fs.renameSync(temporary, pidFile);
  } catch {
    // The data dir was removed under us (tests): nothing to record.
  }
}

/** From now on the stack's processes are listed in <dataDir>/stack.pid. */
export function usePidFile(dataDir: string): void {
  fs.mkdirSync(dataDir, { recursive: true });
  pidFile = path.join(dataDir, 'stack.pid');
  dataDirOfFile = dataDir;
  writePidFile();
}

/** Removes the pid file (after a clean stop). */
export function releasePidFile(): void {
  if (pidFile) fs.rmSync(pidFile, { force: true });
  pidFile = undefined;
}

/** Tracks a child process of the stack until it exits. */
export function track(child: ChildProcess, what: string): void {
  const pid = child.pid;
  if (!pid) return;
  tracked.set(pid, { child, entry: { pid, what, cmdline: cmdlineOf(pid) ?? child.spawnargs.join(' ') } });
  writePidFile();
  child.once('exit', () => {
    tracked.delete(pid);
    writePidFile();
  });
}

export function trackedPids(): number[] {
  return [...tracked.keys()];
}

/** Ends every tracked child: SIGTERM, then SIGKILL to those left after `graceMs`. Resolves when all are gone. */
export async function endChildren(graceMs = STOP_GRACE_MS): Promise<void> {
  const children = [...tracked.values()].map((t) => t.child).filter((c) => c.exitCode === null && c.signalCode === null);
  if (!children.length) return;
  const gone = Promise.all(children.map((c) => (c.exitCode !== null || c.signalCode !== null ? undefined : new Promise((r) => c.once('exit', r)))));
  for (const c of children) c.kill('SIGTERM');
  const timer = setTimeout(() => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  }, graceMs);
  await gone;
  clearTimeout(timer);
}

/** Synchronous last resort (process 'exit'): SIGKILL to every child still running. */
export function killChildrenNow(): void {
  for (const { child } of tracked.values()) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
}

export class StackAlreadyRunningError extends Error {
  override readonly name = 'StackAlreadyRunningError';
  constructor(
    readonly pid: number,
    dataDir: string,
  ) {
    super(`A facewatch local stack (pid ${pid}) is already running with the data dir ${dataDir}. Stop it (Ctrl-C in its terminal, or kill ${pid}), or start this one with another --data-dir.`);
  }
}

/**
 * Before a start: when <dataDir>/stack.pid names a stack that is still running, fails with
 * StackAlreadyRunningError; when it names one that died without stopping (kill -9), ends the children it
 * left behind (SIGKILL, only those still running the recorded command line). Answers what it ended.
 */
export async function endLeftovers(dataDir: string): Promise<TrackedProcess[]> {
  const file = path.join(dataDir, 'stack.pid');
  let recorded: PidFile;
  try {
    recorded = JSON.parse(fs.readFileSync(file, 'utf8')) as PidFile;
  } catch {
    return [];
  }
  if (recorded.pid !== process.pid && isAlive(recorded.pid) && cmdlineOf(recorded.pid) === recorded.cmdline) throw new StackAlreadyRunningError(recorded.pid, dataDir);
  const ended: TrackedProcess[] = [];
  for (const child of recorded.children ?? []) {
    if (!isAlive(child.pid) || cmdlineOf(child.pid) !== child.cmdline) continue;
    try {
      process.kill(child.pid, 'SIGKILL');
      ended.push(child);
    } catch {
      // gone meanwhile
    }
  }
  for (let i = 0; i < 50 && ended.some((c) => isAlive(c.pid) && cmdlineOf(c.pid) !== undefined); i += 1) await new Promise((r) => setTimeout(r, 100));
  fs.rmSync(file, { force: true });
  return ended;
}

/** The process that listens on a TCP port of this machine (from /proc: Linux only), when it can be seen. */
export function holderOf(port: number): { pid: number; cmdline: string } | undefined {
  const inodes = new Set<string>();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = fs.readFileSync(table, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      if (fields.length < 10 || fields[3] !== '0A') continue; // 0A = LISTEN
      if (parseInt(fields[1].split(':')[1], 16) === port) inodes.add(fields[9]);
    }
  }
  if (!inodes.size) return undefined;
  let pids: string[];
  try {
    pids = fs.readdirSync('/proc').filter((d) => /^\d+$/.test(d));
  } catch {
    return undefined;
  }
  for (const pid of pids) {
    let fds: string[];
    try {
      fds = fs.readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      let target: string;
      try {
        target = fs.readlinkSync(`/proc/${pid}/fd/${fd}`);
      } catch {
        continue;
      }
      const m = /^socket:\[(\d+)\]$/.exec(target);
      if (m && inodes.has(m[1])) return { pid: Number(pid), cmdline: cmdlineOf(Number(pid)) ?? '?' };
    }
  }
  return undefined;
}
