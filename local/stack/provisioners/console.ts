/**
 * The console's AWS::ApiGatewayV2::Authorizer and AWS::CloudFront::Distribution (resources/console.yml). On AWS
 * one distribution serves the page and its API from one origin; locally the HTTP API server is that origin, and
 * the handlers' bearer-token check stands in for the JWT authorizer (local/stack/console-hosting.ts).
 */
import { localBehaviours } from '../console-hosting';
import type { Provisioner } from './provisioner';

export const provisionAuthorizer: Provisioner = async ({ id, props }, { debug }) => {
  debug(`${id}: ${String(props.AuthorizerType)} authorizer; locally the API token stands in for its tokens`);
};

export const provisionDistribution: Provisioner = async ({ id }, { cfn, debug, localApiUrl }) => {
  cfn.setAttributes(id, { attributes: { DomainName: new URL(localApiUrl).host } });
  const resource = cfn.resource(id);
  for (const line of localBehaviours(resource.Properties?.DistributionConfig as object, cfn.template, localApiUrl)) debug(`${id}: ${line}`);
};
