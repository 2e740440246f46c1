/**
 * IAM enforced at the local endpoint. Each function of the stack signs its requests with an access key of its
 * own (`FN-<function name>`); the endpoint evaluates the request's action and resource (local/gateway/requests.ts)
 * against that function's role policy from the compiled template, as IAM's evaluation logic does
 * (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html): an explicit Deny
 * wins, else an Allow is needed, else the request is implicitly denied. Action and Resource (and NotAction,
 * NotResource) patterns take `*` and `?` wildcards. Conditions are not evaluated (a statement with a Condition
 * applies as if it held). Any other access key (the operator's, the CLI's `test`/`test`) is allowed everything.
 * A denied request gets the service's AccessDenied error in its protocol's shape.
 */
import { randomUUID } from 'node:crypto';
import type http from 'node:http';

export interface PolicyStatement {
  Effect: 'Allow' | 'Deny';
  Action?: string | string[];
  NotAction?: string | string[];
  Resource?: string | string[];
  NotResource?: string | string[];
  Condition?: unknown;
}

export interface Identity {
  /** arn:aws:sts::<account>:assumed-role/<role>/<function> */
  principalArn: string;
  statements: PolicyStatement[];
}

/** The access key id a function of the stack signs with. */
export const functionAccessKeyId = (functionName: string) => `FN-${functionName}`;

const list = (v: string | string[] | undefined) => (v === undefined ? undefined : Array.isArray(v) ? v : [v]);

function globToRegExp(pattern: string, caseInsensitive: boolean): RegExp {
  const escaped = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${escaped}$`, caseInsensitive ? 'i' : '');
}

const cache = new Map<string, RegExp>();
function matches(pattern: string, value: string, caseInsensitive: boolean): boolean {
  const key = `${caseInsensitive ? 'i' : 's'}${pattern}`;
  let re = cache.get(key);
  if (!re) cache.set(key, (re = globToRegExp(pattern, caseInsensitive)));
  return re.test(value);
}

function statementApplies(s: PolicyStatement, action: string, resource: string): boolean {
  // Actions are case-insensitive, resources (ARNs) case-sensitive.
  const actions = list(s.Action);
  const notActions = list(s.NotAction);
  const actionOk = actions ? actions.some((p) => matches(p, action, true)) : notActions ? !notActions.some((p) => matches(p, action, true)) : false;
  if (!actionOk) return false;
  const resources = list(s.Resource);
  const notResources = list(s.NotResource);
  // A request on "*" (an action on no resource) matches only a statement whose resource is "*" itself.
  const resourceMatches = (p: string) => (resource === '*' ? p === '*' : matches(p, resource, false));
  return resources ? resources.some(resourceMatches) : notResources ? !notResources.some(resourceMatches) : false;
}

export type Decision = { allowed: true } | { allowed: false; explicit: boolean; action: string; resource: string };

/** Every resource of the request must be allowed (a batch over two tables needs both). */
export function evaluate(statements: PolicyStatement[], action: string, resources: string[]): Decision {
  for (const resource of resources) {
    if (statements.some((s) => s.Effect === 'Deny' && statementApplies(s, action, resource))) return { allowed: false, explicit: true, action, resource };
    if (!statements.some((s) => s.Effect === 'Allow' && statementApplies(s, action, resource))) return { allowed: false, explicit: false, action, resource };
  }
  return { allowed: true };
}

/** The access key id a request is signed with (SigV4 header or presigned query), if any. */
export function accessKeyOf(req: Pick<http.IncomingMessage, 'headers' | 'url'>): string | undefined {
  const authorization = String(req.headers.authorization ?? '');
  const m = /Credential=([^/,\s]+)\//.exec(authorization);
  if (m) return m[1];
  const url = new URL(req.url ?? '/', 'http://localhost');
  return url.searchParams.get('X-Amz-Credential')?.split('/')[0] ?? url.searchParams.get('AWSAccessKeyId') ?? undefined;
}

/** AWS's AccessDenied answer for `service`, worded as IAM words it. */
export function answerAccessDenied(res: http.ServerResponse, service: string, principalArn: string, denial: Extract<Decision, { allowed: false }>): void {
  const why = denial.explicit ? `with an explicit deny in an identity-based policy` : `because no identity-based policy allows the ${denial.action} action`;
  const message = `User: ${principalArn} is not authorized to perform: ${denial.action} on resource: ${denial.resource} ${why}`;
  const requestId = randomUUID();
  if (service === 's3') {
    res.writeHead(403, { 'content-type': 'application/xml', 'x-amz-request-id': requestId });
    res.end(`<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>AccessDenied</Code><Message>${escapeXml(message)}</Message><RequestId>${requestId}</RequestId></Error>`);
  } else if (service === 'sns') {
    res.writeHead(403, { 'content-type': 'text/xml', 'x-amzn-requestid': requestId });
    res.end(
      `<ErrorResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><Error><Type>Sender</Type><Code>AuthorizationError</Code><Message>${escapeXml(message)}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`,
    );
  } else {
    // JSON protocols: DynamoDB, Kinesis, Rekognition, SQS, Lambda, Kinesis Video (HTTP 400 for the first three, 403 for the others).
    const code = service === 'sqs' ? 'AccessDenied' : 'AccessDeniedException';
    const status = service === 'dynamodb' || service === 'kinesis' || service === 'rekognition' ? 400 : 403;
    res.writeHead(status, { 'content-type': 'application/x-amz-json-1.0', 'x-amzn-errortype': code, 'x-amzn-requestid': requestId });
    res.end(JSON.stringify({ __type: code, message, Message: message }));
  }
}

const escapeXml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** The identity of each function of a compiled template: its role's inline policies, intrinsics resolved. */
export function identitiesFromTemplate(
  functions: { name: string; roleLogicalId?: string }[],
  roleOf: (logicalId: string) => { roleName: string; statements: PolicyStatement[] } | undefined,
  accountId: string,
): Map<string, Identity> {
  const identities = new Map<string, Identity>();
  for (const fn of functions) {
    const role = fn.roleLogicalId ? roleOf(fn.roleLogicalId) : undefined;
    identities.set(functionAccessKeyId(fn.name), {
      principalArn: `arn:aws:sts::${accountId}:assumed-role/${role?.roleName ?? 'no-role'}/${fn.name}`,
      statements: role?.statements ?? [],
    });
  }
  return identities;
}
