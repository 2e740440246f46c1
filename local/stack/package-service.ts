/**
 * Packages the service for the local stage with the real toolchain (`osls package`, bundled by
 * serverless-esbuild), into a build folder of the data dir so it never races with a developer's own
 * `.serverless/`. Skipped when nothing it reads has changed since the last package.
 */
import { spawn } from 'node:child_process';
import { track } from './lifecycle';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

export interface PackageOptions {
  root: string;
  buildDir: string;
  stage: string;
  region: string;
  /** Extra `--param="k=v"` values for osls. */
  params?: Record<string, string>;
  log?: (line: string) => void;
}

export interface PackagedService {
  buildDir: string;
  templateFile: string;
  serviceName: string;
  /** True when the previous package was reused. */
  cached: boolean;
}

const PACKAGE_TIMEOUT_MS = 180_000;
const INPUTS = ['serverless.yml', 'package.json', 'package-lock.json', 'tsconfig.json', 'functions', 'shared', 'resources'];

/** A fingerprint of every file the package is built from (paths, sizes, modification times). */
function fingerprint(root: string, extra: unknown): string {
  const hash = createHash('sha256').update(JSON.stringify(extra));
  const walk = (p: string) => {
    if (!fs.existsSync(p)) return;
    const stat = fs.statSync(p);
    if (stat.isDirectory()) {
      for (const name of fs.readdirSync(p).sort()) if (name !== 'node_modules' && !name.startsWith('.')) walk(path.join(p, name));
    } else hash.update(`${path.relative(root, p)}:${stat.size}:${stat.mtimeMs}\n`);
  };
  for (const input of INPUTS) walk(path.join(root, input));
  return hash.digest('hex');
}

export async function packageService(options: PackageOptions): Promise<PackagedService> {
  const { root, buildDir, stage, region, params = {} } = options;
  const templateFile = path.join(buildDir, 'cloudformation-template-update-stack.json');
  const stateFile = path.join(buildDir, 'serverless-state.json');
  const stampFile = path.join(buildDir, '.inputs');
  const stamp = fingerprint(root, { stage, region, params, cpu: process.arch });
  const serviceName = () => {
    const state = JSON.parse(fs.readFileSync(stateFile, 'utf8')) as { service?: { service?: string } };
    return state.service?.service ?? 'service';
  };
  if (fs.existsSync(templateFile) && fs.existsSync(stateFile) && fs.existsSync(stampFile) && fs.readFileSync(stampFile, 'utf8') === stamp) {
    return { buildDir, templateFile, serviceName: serviceName(), cached: true };
  }
  fs.rmSync(buildDir, { recursive: true, force: true });
  fs.mkdirSync(buildDir, { recursive: true });
  const cli = path.join(root, 'node_modules', 'osls', 'bin', 'serverless.js');
  if (!fs.existsSync(cli)) throw new Error(`osls is not installed (${cli} is missing): run npm ci first`);
  const args = [cli, 'package', '--stage', stage, '--region', region, '--package', buildDir];
  for (const [k, v] of Object.entries(params)) args.push(`--param=${k}=${v}`);
  options.log?.(`packaging: osls ${args.slice(1).join(' ')}`);
  const output: string[] = [];
  const code = await new Promise<number>((resolve, reject) => {
    const child = spawn(process.execPath, args, {
      cwd: root,
      // No AWS credentials or profile are needed to package; keep the developer's out of it.
      env: {
        ...process.env,
        SLS_TELEMETRY_DISABLED: '1',
        SLS_NOTIFICATIONS_MODE: 'off',
        AWS_PROFILE: '',
        FORCE_COLOR: '0',
        // serverless-esbuild's work folder, one per build dir (see custom.esbuild in serverless.yml): two stacks
        // (or a stack and a developer's `osls package`) packaging at once would otherwise delete each other's files.
        // Native packages (sharp in processVideo) are installed for Lambda's arm64 on deploy; locally the bundles
        // run on this machine, so they get this CPU's binaries (see custom.esbuild in serverless.yml).
        FACEWATCH_LAMBDA_CPU: process.arch,
        FACEWATCH_ESBUILD_WORK_FOLDER: path.join('.build', 'esbuild', createHash('sha256').update(buildDir).digest('hex').slice(0, 12)),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    track(child, 'packaging (osls package)');
    child.stdout.on('data', (d: Buffer) => output.push(d.toString()));
    child.stderr.on('data', (d: Buffer) => output.push(d.toString()));
    // A stuck package (e.g. another `osls package` holding .esbuild/) must not hang the start forever.
    const timer = setTimeout(() => {
      output.push(`\n(stopped after ${PACKAGE_TIMEOUT_MS / 1000} s)`);
      child.kill('SIGKILL');
    }, PACKAGE_TIMEOUT_MS);
    child.on('error', reject);
    child.on('exit', (c) => {
      clearTimeout(timer);
      resolve(c ?? 1);
    });
  });
  if (code !== 0 || !fs.existsSync(templateFile)) {
    throw new Error(`Packaging the service failed (osls package --stage ${stage}, exit code ${code}). Its output:\n${output.join('').trim()}`);
  }
  fs.writeFileSync(stampFile, stamp);
  return { buildDir, templateFile, serviceName: serviceName(), cached: false };
}
