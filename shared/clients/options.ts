import { NodeHttpHandler } from '@smithy/node-http-handler';

/**
 * Options every SDK client shares. Endpoints are NOT set here: the SDK itself reads `AWS_ENDPOINT_URL`
 * and `AWS_ENDPOINT_URL_<SERVICE>`, so the same code talks to AWS or to the local twin.
 */
export const clientOptions = {
  // HTTP/1.1 keep-alive: also what the local emulators speak (kinesalite fails on HTTP/2).
  requestHandler: new NodeHttpHandler({ connectionTimeout: 3_000, requestTimeout: 20_000 }),
  maxAttempts: 3,
};

/** True when a custom endpoint is configured for the service (the local twin), which needs path-style S3. */
export function hasCustomEndpoint(service: string): boolean {
  return Boolean(process.env[`AWS_ENDPOINT_URL_${service.toUpperCase()}`] || process.env.AWS_ENDPOINT_URL);
}
