import { readFileSync } from 'node:fs';
import path from 'node:path';

/**
 * What the CLI needs to talk to a running stack: read from the files `npm start` writes
 * (.facewatch/stack.json and .facewatch/api-token), overridable by flags and environment.
 */
export interface CliContext {
  dataDir: string;
  endpoint: string;
  apiUrl: string;
  region: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
  facesBucket?: string;
  token?: string;
  outboxDir: string;
  cameras: Record<string, { videoStream?: string; dataStream?: string; processor?: string }>;
  /** Physical name (Ref) of each resource of the local stack, by logical id. */
  resources: Record<string, string>;
}

interface StackFile {
  endpoint?: string;
  apiUrl?: string;
  region?: string;
  credentials?: { accessKeyId?: string; secretAccessKey?: string };
  resources?: Record<string, { type?: string; ref?: string }>;
  names?: Record<string, string>;
  cameras?: CliContext['cameras'];
  outboxDir?: string;
}

function readJson<T>(file: string): T | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as T;
  } catch {
    return undefined;
  }
}

function readText(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8').trim();
  } catch {
    return undefined;
  }
}

/** A resource's physical name (its Ref) in stack.json: by logical id, else the first of its CloudFormation type. */
function resourceName(stack: StackFile, logicalId: string, type: string): string | undefined {
  const resources = stack.resources ?? {};
  return (resources[logicalId] ?? Object.values(resources).find((r) => r.type === type))?.ref;
}

export function loadContext(options: { dataDir?: string; endpoint?: string; apiUrl?: string } = {}): CliContext {
  const dataDir = path.resolve(options.dataDir ?? process.env.FACEWATCH_DATA_DIR ?? '.facewatch');
  const stack = readJson<StackFile>(path.join(dataDir, 'stack.json')) ?? {};
  return {
    dataDir,
    endpoint: options.endpoint ?? process.env.AWS_ENDPOINT_URL ?? stack.endpoint ?? 'http://127.0.0.1:4566',
    apiUrl: (options.apiUrl ?? process.env.FACEWATCH_API_URL ?? stack.apiUrl ?? 'http://127.0.0.1:3000').replace(/\/$/, ''),
    region: process.env.AWS_REGION ?? stack.region ?? 'us-east-1',
    credentials: {
      accessKeyId: process.env.AWS_ACCESS_KEY_ID ?? stack.credentials?.accessKeyId ?? 'S3RVER',
      secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY ?? stack.credentials?.secretAccessKey ?? 'S3RVER',
    },
    facesBucket: process.env.FACES_BUCKET ?? stack.names?.facesBucket ?? resourceName(stack, 'FacesBucket', 'AWS::S3::Bucket'),
    token: process.env.FACEWATCH_API_TOKEN ?? readText(path.join(dataDir, 'api-token')),
    outboxDir: stack.outboxDir ?? path.join(dataDir, 'outbox'),
    cameras: stack.cameras ?? {},
    resources: Object.fromEntries(Object.entries(stack.resources ?? {}).flatMap(([id, r]) => (r.ref ? [[id, r.ref]] : []))),
  };
}

/** Fails with a message that says what to do when the stack is not running or not reachable. */
export class CliError extends Error {}

export async function callApi<T>(context: CliContext, method: string, route: string, body?: unknown): Promise<T> {
  let response: Response;
  try {
    response = await fetch(`${context.apiUrl}${route}`, {
      method,
      headers: {
        ...(context.token ? { authorization: `Bearer ${context.token}` } : {}),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new CliError(`Cannot reach the API at ${context.apiUrl}: is the stack running? Start it with \`npm start\`.`);
  }
  const text = await response.text();
  const payload = text ? (JSON.parse(text) as unknown) : undefined;
  if (!response.ok) {
    const message = (payload as { error?: { message?: string } } | undefined)?.error?.message ?? text;
    throw new CliError(`${method} ${route} failed (${response.status}): ${message}`);
  }
  return payload as T;
}
