/**
 * The operator console's hosting, as the local stack stands in for it. On AWS (resources/console.yml) a CloudFront
 * distribution serves /console/* from a private bucket and /api/* from the HTTP API; locally the HTTP API server on
 * 127.0.0.1 is that one origin: it serves the /api twins from the template's routes and the page from console/dist.
 * So the distribution's local meaning is the HTTP API's address, the buckets behind it are not created (their
 * content is console/dist), and the user pool's tokens are stood in for by the API token.
 */
import type { CfnTemplate } from './template';

/** Where the page lives on the local HTTP API (CONSOLE_URL of the functions that link it). */
export const CONSOLE_PATH = '/console/';

/** Resource types whose job the API token does locally (no user pool, no hosted sign-in pages). */
export const TOKEN_STANDS_IN_FOR = ['AWS::Cognito::UserPool', 'AWS::Cognito::UserPoolClient', 'AWS::Cognito::UserPoolDomain'];
/** Resource types of the distribution's plumbing, which the local HTTP API does not need. */
export const HTTP_API_STANDS_IN_FOR = ['AWS::CloudFront::OriginAccessControl', 'AWS::CloudFront::Function'];

type Origin = { Id?: string; DomainName?: unknown; S3OriginConfig?: unknown; OriginAccessControlId?: unknown };
type DistributionConfig = { Origins?: Origin[]; DefaultCacheBehavior?: { TargetOriginId?: string }; CacheBehaviors?: { PathPattern?: string; TargetOriginId?: string }[] };

const logicalIdOf = (value: unknown): string | undefined => {
  const getAtt = (value as { 'Fn::GetAtt'?: unknown } | undefined)?.['Fn::GetAtt'];
  if (Array.isArray(getAtt)) return String(getAtt[0]);
  if (typeof getAtt === 'string') return getAtt.split('.')[0];
  return undefined;
};

/** Logical ids of the S3 buckets that a distribution of the template reads as its origins (their files are console/dist locally). */
export function bucketsBehindDistributions(template: CfnTemplate): Set<string> {
  const buckets = new Set<string>();
  for (const resource of Object.values(template.Resources)) {
    if (resource.Type !== 'AWS::CloudFront::Distribution') continue;
    const config = (resource.Properties?.DistributionConfig ?? {}) as DistributionConfig;
    for (const origin of config.Origins ?? []) {
      const id = logicalIdOf(origin.DomainName);
      if (id && template.Resources[id]?.Type === 'AWS::S3::Bucket') buckets.add(id);
    }
  }
  return buckets;
}

/** What each of the distribution's path patterns is served by locally, for the stack's log. */
export function localBehaviours(config: DistributionConfig, template: CfnTemplate, apiUrl: string): string[] {
  const origins = new Map((config.Origins ?? []).map((o) => [o.Id, o]));
  const describe = (pattern: string, originId: string | undefined) => {
    const origin = origins.get(originId);
    const bucket = logicalIdOf(origin?.DomainName);
    const servedBy = bucket && template.Resources[bucket]?.Type === 'AWS::S3::Bucket' ? `console/dist (bucket ${bucket} on AWS)` : 'the HTTP API routes';
    return `${apiUrl}${pattern} -> ${servedBy}`;
  };
  return [
    ...(config.CacheBehaviors ?? []).map((b) => describe(String(b.PathPattern), b.TargetOriginId)),
    describe('/* (default)', config.DefaultCacheBehavior?.TargetOriginId),
  ];
}
