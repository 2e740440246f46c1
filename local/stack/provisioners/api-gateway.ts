/** AWS::ApiGatewayV2::Api, ::Integration and ::Route: kept for the one local HTTP API (routes.ts). */
import type { Provisioner } from './provisioner';

export const provisionHttpApi: Provisioner = async ({ id }, { found }) => {
  found.apiParts.apis.push(id);
};

export const provisionIntegration: Provisioner = async ({ id, attrs }, { found }) => {
  found.apiParts.integrations.set(attrs.ref, id);
};

export const provisionRoute: Provisioner = async ({ id }, { found }) => {
  found.apiParts.routes.push(id);
};
