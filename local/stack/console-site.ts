/**
 * The operator console on the local stack. On AWS, CloudFront serves /console/* from a private bucket and /api/*
 * from the HTTP API, on one origin; locally the HTTP API's own server plays CloudFront's part for /console/, so the
 * page and its /api calls share an origin here too. The page is built with Vite from console/ into a cache keyed by
 * its sources' hash (two stacks starting at once build it once each at most, never into each other's folder).
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import type http from 'node:http';
import path from 'node:path';
import { PutBucketCorsCommand, type CORSRule, type S3Client } from '@aws-sdk/client-s3';

const SOURCES = ['index.html', 'vite.config.ts', 'src'];
const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
};

function filesUnder(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  if (fs.statSync(dir).isFile()) return [dir];
  return fs.readdirSync(dir).sort().flatMap((name) => filesUnder(path.join(dir, name)));
}

/** The hash of what the page is built from: its sources, and the API types they import. */
export function consoleSourceHash(projectRoot: string): string {
  const hash = createHash('sha256');
  const roots = [...SOURCES.map((s) => path.join(projectRoot, 'console', s)), path.join(projectRoot, 'package-lock.json')];
  for (const file of roots.flatMap(filesUnder)) hash.update(path.relative(projectRoot, file)).update('\0').update(fs.readFileSync(file));
  return hash.digest('hex').slice(0, 16);
}

/** Builds the console (if this version is not built yet) and answers the folder holding it. */
export async function buildConsole(projectRoot: string, log: (line: string) => void = () => undefined): Promise<string> {
  const cache = path.join(projectRoot, 'node_modules', '.cache', 'facewatch-console');
  const target = path.join(cache, consoleSourceHash(projectRoot));
  if (fs.existsSync(path.join(target, 'index.html'))) return target;
  const temporary = `${target}.${process.pid}.${Date.now()}`;
  const started = Date.now();
  await new Promise<void>((resolve, reject) => {
    const vite = path.join(projectRoot, 'node_modules', 'vite', 'bin', 'vite.js');
    const child = spawn(process.execPath, [vite, 'build', 'console', '--outDir', temporary, '--emptyOutDir', '--logLevel', 'warn'], { cwd: projectRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d));
    child.stderr.on('data', (d: Buffer) => (output += d));
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`Building the console (vite build console) failed:\n${output}`))));
  });
  try {
    fs.renameSync(temporary, target);
  } catch (error) {
    // Another stack built the same version meanwhile: keep theirs.
    fs.rmSync(temporary, { recursive: true, force: true });
    if (!fs.existsSync(path.join(target, 'index.html'))) throw error;
  }
  log(`console built in ${Date.now() - started} ms`);
  return target;
}

export interface ConsoleSiteOptions {
  dir: string;
  /** What /console/config.json says: how the page logs in. */
  config: Record<string, unknown>;
  /** Where the page may also load images from and send uploads to (the local AWS endpoint: presigned S3 links). */
  storageOrigin: string;
}

/** Serves GET/HEAD /console/*; answers false for anything else (the API's routes). */
export function consoleSite(options: ConsoleSiteOptions): (req: http.IncomingMessage, res: http.ServerResponse, pathname: string) => boolean {
  const root = path.resolve(options.dir);
  const config = Buffer.from(JSON.stringify(options.config));
  const security = {
    'content-security-policy': `default-src 'self'; img-src 'self' data: ${options.storageOrigin}; connect-src 'self' ${options.storageOrigin}; style-src 'self'; script-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'`,
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
  };
  return (req, res, pathname) => {
    if (pathname !== '/console' && !pathname.startsWith('/console/')) return false;
    const method = (req.method ?? 'GET').toUpperCase();
    const send = (status: number, headers: Record<string, string>, body: Buffer) => {
      res.writeHead(status, { ...security, ...headers, 'content-length': String(body.length) });
      res.end(method === 'HEAD' ? undefined : body);
    };
    if (method !== 'GET' && method !== 'HEAD') {
      send(405, { allow: 'GET, HEAD', 'content-type': 'text/plain' }, Buffer.from('The console is read-only'));
      return true;
    }
    if (pathname === '/console') {
      res.writeHead(301, { location: '/console/' });
      res.end();
      return true;
    }
    if (pathname === '/console/config.json') {
      send(200, { 'content-type': 'application/json', 'cache-control': 'no-store' }, config);
      return true;
    }
    const relative = decodeURIComponent(pathname.slice('/console/'.length)) || 'index.html';
    const file = path.resolve(root, relative);
    if (!file.startsWith(root + path.sep) || !fs.existsSync(file) || !fs.statSync(file).isFile()) {
      send(404, { 'content-type': 'text/plain' }, Buffer.from('Not Found'));
      return true;
    }
    const hashed = relative.startsWith('assets/');
    send(200, { 'content-type': TYPES[path.extname(file)] ?? 'application/octet-stream', 'cache-control': hashed ? 'public, max-age=31536000, immutable' : 'no-cache' }, fs.readFileSync(file));
    return true;
  };
}

/**
 * A bucket's CORS rules say which page may PUT photos into it: on AWS the console's CloudFront origin; locally the
 * console is served by the HTTP API, so its origin takes that place.
 */
export async function allowConsoleOrigin(s3: S3Client, bucket: string, rules: readonly CORSRule[], origin: string): Promise<void> {
  await s3.send(new PutBucketCorsCommand({ Bucket: bucket, CORSConfiguration: { CORSRules: rules.map((r) => ({ ...r, AllowedOrigins: [origin] })) } }));
}
