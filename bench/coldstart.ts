/**
 * Cold start of every function as Lambda would run it: `osls package` (the real toolchain), each function's zip
 * unzipped, then its handler module required in a fresh Node 24 process with the function's environment from
 * the template (references replaced by placeholder names), 5 times; the median of the require's duration is the
 * init. Zip sizes are the packaged files' (processVideo packaged for this machine's CPU, as the local stack does). Targets (docs/deploy.md): init ≤ 150 ms per function, processVideo
 * ≤ 300 ms; zips ≤ 1 MB, processVideo aside.
 *
 *   npm run bench:coldstart [-- --runs 5]
 *
 * Last line: max_init_ms=… max_zip_bytes=… process_video_init_ms=… process_video_zip_bytes=… node_start_ms=…
 * (node_start_ms: a bare `require` of an empty module in the same kind of process, the floor of the figure).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** The project (this file runs compiled from .build/bench/). */
const ROOT = path.resolve(__dirname, '..', '..');
const runsArg = process.argv.indexOf('--runs');
const RUNS = runsArg > 0 ? Number(process.argv[runsArg + 1]) : 5;

interface FunctionResource {
  Type: string;
  Properties: { Handler: string; Code: { S3Key: string }; Environment?: { Variables?: Record<string, unknown> }; FunctionName?: string };
}

function packageService(outDir: string): Record<string, FunctionResource> {
  // processVideo's native sharp is installed for this machine's CPU, so its handler loads here (Lambda: arm64).
  const env = { ...process.env, SLS_TELEMETRY_DISABLED: '1', FORCE_COLOR: '0', FACEWATCH_LAMBDA_CPU: process.arch, FACEWATCH_ESBUILD_WORK_FOLDER: '.esbuild-bench' };
  execFileSync(process.execPath, [path.join(ROOT, 'node_modules', 'osls', 'bin', 'serverless.js'), 'package', '--stage', 'bench', '--package', outDir], {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const template = JSON.parse(fs.readFileSync(path.join(outDir, 'cloudformation-template-update-stack.json'), 'utf8'));
  return Object.fromEntries(Object.entries(template.Resources as Record<string, FunctionResource>).filter(([, r]) => r.Type === 'AWS::Lambda::Function'));
}

/** The environment Lambda would give: the template's variables, with a plausible name for each reference. */
function environmentOf(logicalId: string, fn: FunctionResource): Record<string, string> {
  const variables: Record<string, string> = {};
  for (const [name, value] of Object.entries(fn.Properties.Environment?.Variables ?? {})) {
    const plausible = name.endsWith('_URL') ? `https://bench.example/${name.toLowerCase().replace(/_/g, '-')}/` : `bench-${name.toLowerCase().replace(/_/g, '-')}`;
    variables[name] = typeof value === 'string' || typeof value === 'number' ? String(value) : plausible;
  }
  return {
    PATH: process.env.PATH ?? '',
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'AKIDBENCH',
    AWS_SECRET_ACCESS_KEY: 'bench',
    AWS_LAMBDA_FUNCTION_NAME: logicalId.replace(/LambdaFunction$/, ''),
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '1024',
    ...variables,
  };
}

/** Milliseconds the require of `file` takes in a fresh process (measured inside it, around the require only). */
function requireMs(file: string, cwd: string, env: Record<string, string>): number {
  const probe = `const t = process.hrtime.bigint(); require(${JSON.stringify(file)}); process.stdout.write(String(Number(process.hrtime.bigint() - t) / 1e6));`;
  const run = spawnSync(process.execPath, ['-e', probe], { cwd, env, encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`require of ${file} failed: ${run.stderr}`);
  return Number(run.stdout);
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

function main() {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'facewatch-coldstart-'));
  try {
    const outDir = path.join(work, 'package');
    const functions = packageService(outDir);
    const empty = path.join(work, 'empty.js');
    fs.writeFileSync(empty, '');
    const nodeStart = median(Array.from({ length: RUNS }, () => requireMs(empty, work, { PATH: process.env.PATH ?? '' })));
    const rows: { name: string; initMs: number; zipBytes: number }[] = [];
    for (const [logicalId, fn] of Object.entries(functions)) {
      const name = logicalId.replace(/LambdaFunction$/, '');
      const zip = path.join(outDir, path.basename(fn.Properties.Code.S3Key));
      const dir = path.join(work, name);
      fs.mkdirSync(dir);
      execFileSync('unzip', ['-q', zip, '-d', dir]);
      const [modulePath] = fn.Properties.Handler.split(/\.(?=[^.]+$)/);
      const file = path.join(dir, `${modulePath}.js`);
      const env = environmentOf(logicalId, fn);
      const initMs = median(Array.from({ length: RUNS }, () => requireMs(file, dir, env)));
      const zipBytes = fs.statSync(zip).size;
      rows.push({ name, initMs, zipBytes });
      console.log(`${name.padEnd(22)} init_ms=${initMs.toFixed(1).padStart(6)} zip_bytes=${zipBytes}`);
    }
    const others = rows.filter((r) => r.name !== 'ProcessVideo');
    const processVideo = rows.find((r) => r.name === 'ProcessVideo');
    console.log(
      `max_init_ms=${Math.max(...others.map((r) => r.initMs)).toFixed(1)} max_zip_bytes=${Math.max(...others.map((r) => r.zipBytes))}` +
        ` process_video_init_ms=${processVideo?.initMs.toFixed(1)} process_video_zip_bytes=${processVideo?.zipBytes} node_start_ms=${nodeStart.toFixed(1)}`,
    );
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

main();
