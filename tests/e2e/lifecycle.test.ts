/**
 * `npm start`'s lifecycle as a process manager sees it: the stack is started as `npm start` runs it (its own
 * process group, as a terminal or a supervisor gives it), then
 * - SIGTERM to the whole group stops every child within 10 s and frees every port;
 * - after a kill -9 of the stack alone, its children are left running; the next start ends them (from
 *   <dataDir>/stack.pid) and starts on the same ports.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { PidFile } from '../../local/stack/lifecycle';
import { projectRoot } from '../../local/project-root';

jest.setTimeout(240_000);

const root = projectRoot();

interface Started {
  child: ChildProcess;
  output: string[];
  pidFile: PidFile;
  ports: number[];
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

async function until(what: string, condition: () => boolean | Promise<boolean>, timeoutMs: number): Promise<number> {
  const started = Date.now();
  while (!(await condition())) {
    if (Date.now() - started > timeoutMs) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return Date.now() - started;
}

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** Starts `npm start`'s entry point in a process group of its own and waits until it is ready. */
async function start(dataDir: string, ports: number[]): Promise<Started> {
  const [port, apiPort, mailPort] = ports;
  const child = spawn(
    process.execPath,
    [path.join(root, 'local', 'run.js'), 'local/stack/main.ts', '--port', String(port), '--api-port', String(apiPort), '--mail-port', String(mailPort), '--data-dir', dataDir, '--quiet'],
    { cwd: root, detached: true, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const output: string[] = [];
  child.stdout!.on('data', (d: Buffer) => output.push(d.toString()));
  child.stderr!.on('data', (d: Buffer) => output.push(d.toString()));
  await until('the stack is ready', () => {
    if (child.exitCode !== null) throw new Error(`the stack exited (${child.exitCode}): ${output.join('')}`);
    return output.join('').includes('facewatch is running locally');
  }, 200_000);
  const pidFile = JSON.parse(fs.readFileSync(path.join(dataDir, 'stack.pid'), 'utf8')) as PidFile;
  return { child, output, pidFile, ports };
}

/** An API call: the API's function then runs in a process of its own, one more child to stop. */
async function callApi(dataDir: string): Promise<void> {
  const info = JSON.parse(fs.readFileSync(path.join(dataDir, 'stack.json'), 'utf8')) as { apiUrl: string; tokenFile: string };
  const token = fs.readFileSync(info.tokenFile, 'utf8').trim();
  const response = await fetch(`${info.apiUrl}/people`, { headers: { authorization: `Bearer ${token}` } });
  expect(response.status).toBe(200);
}

describe('npm start lifecycle', () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'facewatch-lifecycle-'));
  const leftovers: number[] = [];
  afterAll(() => {
    for (const pid of leftovers) if (alive(pid)) process.kill(pid, 'SIGKILL');
  });

  it('SIGTERM to the process group stops every child within 10 s and frees every port', async () => {
    // Given a running stack with the mail catcher and a function's process
    const ports = [await freePort(), await freePort(), await freePort()];
    const stack = await start(dataDir, ports);
    await callApi(dataDir);
    const pidFile = JSON.parse(fs.readFileSync(path.join(dataDir, 'stack.pid'), 'utf8')) as PidFile;
    const pids = [pidFile.pid, ...pidFile.children.map((c) => c.pid)];
    leftovers.push(...pids);
    expect(pidFile.children.map((c) => c.what)).toEqual(expect.arrayContaining(['mail catcher (maildev)', expect.stringMatching(/^function /)]));

    // When the group gets SIGTERM
    process.kill(-stack.child.pid!, 'SIGTERM');

    // Then within 10 s no process of the stack is left, the ports are free and the pid file is gone
    const took = await until('every process ended', () => pids.every((pid) => !alive(pid)), 10_000);
    expect(took).toBeLessThan(10_000);
    for (const port of ports) expect(await portFree(port)).toBe(true);
    expect(fs.existsSync(path.join(dataDir, 'stack.pid'))).toBe(false);
  });

  it('a start after kill -9 of the stack ends the children it left and starts on the same ports', async () => {
    // Given a stack killed with SIGKILL: its mail catcher (a process group of its own) is left running
    const ports = [await freePort(), await freePort(), await freePort()];
    const first = await start(dataDir, ports);
    const mail = first.pidFile.children.find((c) => c.what.startsWith('mail catcher'))!;
    leftovers.push(first.pidFile.pid, mail.pid);
    process.kill(first.pidFile.pid, 'SIGKILL');
    await until('the stack died', () => !alive(first.pidFile.pid), 5_000);
    expect(alive(mail.pid)).toBe(true);

    // When the stack starts again with the same data dir and ports
    const second = await start(dataDir, ports);
    leftovers.push(second.pidFile.pid, ...second.pidFile.children.map((c) => c.pid));

    // Then it ended the leftover and says so, and runs
    expect(second.output.join('')).toContain(`mail catcher (maildev) (pid ${mail.pid})`);
    expect(alive(mail.pid)).toBe(false);
    process.kill(-second.child.pid!, 'SIGINT');
    await until('the second stack stopped', () => [second.pidFile.pid, ...second.pidFile.children.map((c) => c.pid)].every((pid) => !alive(pid)), 10_000);
  });

  it('SIGTERM while the stack is still starting leaves nothing running either', async () => {
    // Given a stack that has started its services but is not ready yet
    const ports = [await freePort(), await freePort(), await freePort()];
    const [port, apiPort, mailPort] = ports;
    fs.rmSync(path.join(dataDir, 'stack.json'), { force: true });
    const child = spawn(
      process.execPath,
      [path.join(root, 'local', 'run.js'), 'local/stack/main.ts', '--port', String(port), '--api-port', String(apiPort), '--mail-port', String(mailPort), '--data-dir', dataDir, '--quiet'],
      { cwd: root, detached: true, stdio: 'ignore' },
    );
    const pids = new Set<number>([child.pid!]);
    await until('the mail catcher started', () => {
      try {
        const file = JSON.parse(fs.readFileSync(path.join(dataDir, 'stack.pid'), 'utf8')) as PidFile;
        if (file.pid !== child.pid) return false;
        for (const c of file.children) pids.add(c.pid);
        return file.children.some((c) => c.what.startsWith('mail catcher'));
      } catch {
        return false;
      }
    }, 60_000);
    leftovers.push(...pids);
    expect(fs.existsSync(path.join(dataDir, 'stack.json'))).toBe(false); // not ready yet

    // When the group gets SIGTERM mid-start
    process.kill(-child.pid!, 'SIGTERM');

    // Then within 10 s every process it had started is gone and the ports are free
    await until('every process ended', () => [...pids].every((pid) => !alive(pid)), 10_000);
    for (const p of ports) expect(await portFree(p)).toBe(true);
  });
});
