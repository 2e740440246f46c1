/**
 * `<dataDir>/stack.json`: what a person or a tool needs to talk to the running stack — endpoints,
 * credentials, every resource's physical name and ARN, the functions and how their events are wired.
 */
import type { ScheduleInfo } from './schedules';
import fs from 'node:fs';
import path from 'node:path';
import type { FunctionDefinition, LocalFunction } from './functions';
import type { LambdaNotification } from './s3-notifications';
import { LOCAL_ACCOUNT_ID } from './template';

export interface ResourceInfo {
  type: string;
  ref: string;
  attributes: Record<string, string>;
}

export interface StackInfo {
  service: string;
  stage: string;
  region: string;
  accountId: string;
  endpoint: string;
  apiUrl: string;
  /** The operator console: open it with `#token=<API token>` (what `npm start` prints). */
  consoleUrl: string;
  mailUrl: string;
  dataDir: string;
  tokenFile: string;
  credentials: { accessKeyId: string; secretAccessKey: string; region: string; hint: string };
  resources: Record<string, ResourceInfo>;
  functions: Record<string, { name: string; arn: string; handler: string; timeoutSeconds: number; memoryMb: number }>;
  routes: { routeKey: string; function: string }[];
  /** `consumer`: the enhanced fan-out consumer the mapping reads through, when it does. */
  eventSources: { function: string; stream: string; consumer?: string; settings: Record<string, unknown>; onFailure?: string }[];
  notifications: { bucket: string; event: string; prefix?: string; suffix?: string; function: string }[];
  subscriptions: { topic: string; protocol: string; endpoint: string }[];
  /** Scheduled rules run locally (local/stack/schedules.ts). */
  schedules: ScheduleInfo[];
  startedAt: string;
}

export interface StackInfoParts {
  service: string;
  stage: string;
  region: string;
  endpoint: string;
  apiUrl: string;
  /** The operator console: open it with `#token=<API token>` (what `npm start` prints). */
  consoleUrl: string;
  mailUrl: string;
  dataDir: string;
  tokenFile: string;
  /** The local key pair itself, not a client's copy: the SDK tags objects it was given with a $source. */
  credentials: { accessKeyId: string; secretAccessKey: string };
  resources: Record<string, ResourceInfo>;
  definitions: FunctionDefinition[];
  routes: StackInfo['routes'];
  eventSources: StackInfo['eventSources'];
  notificationsByBucket: Map<string, LambdaNotification[]>;
  functionByArn: (arn: string) => LocalFunction | undefined;
  subscriptions: { topicArn: string; protocol: string; endpoint: string }[];
  schedules: ScheduleInfo[];
}

export function stackInfoOf(parts: StackInfoParts): StackInfo {
  const { region, endpoint, credentials } = parts;
  return {
    service: parts.service,
    stage: parts.stage,
    region,
    accountId: LOCAL_ACCOUNT_ID,
    endpoint,
    apiUrl: parts.apiUrl,
    consoleUrl: parts.consoleUrl,
    mailUrl: parts.mailUrl,
    dataDir: parts.dataDir,
    tokenFile: parts.tokenFile,
    credentials: {
      ...credentials,
      region,
      hint: `export AWS_ACCESS_KEY_ID=${credentials.accessKeyId} AWS_SECRET_ACCESS_KEY=${credentials.secretAccessKey} AWS_REGION=${region} AWS_DEFAULT_REGION=${region} AWS_ENDPOINT_URL=${endpoint}`,
    },
    resources: parts.resources,
    functions: Object.fromEntries(
      parts.definitions.map((d) => [d.logicalId, { name: d.name, arn: d.arn, handler: d.handler, timeoutSeconds: d.timeoutSeconds, memoryMb: d.memoryMb }]),
    ),
    routes: parts.routes,
    eventSources: parts.eventSources,
    notifications: [...parts.notificationsByBucket].flatMap(([bucket, list]) =>
      list.map((n) => ({ bucket, event: n.event, prefix: n.prefix, suffix: n.suffix, function: parts.functionByArn(n.functionArn)?.definition.logicalId ?? n.functionArn })),
    ),
    subscriptions: parts.subscriptions.map((s) => ({ topic: s.topicArn, protocol: s.protocol, endpoint: s.endpoint })),
    schedules: parts.schedules,
    startedAt: new Date().toISOString(),
  };
}

export function writeStackInfo(dataDir: string, stackInfo: StackInfo): void {
  fs.writeFileSync(path.join(dataDir, 'stack.json'), JSON.stringify(stackInfo, null, 2));
}
