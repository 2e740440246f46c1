import fs from 'node:fs';

/**
 * A fetch for TensorFlow.js' model loaders: reads local files (a plain path or file://) and refuses the network,
 * so no weight is ever downloaded. The processor's detector and the local Rekognition's engine both use it.
 */
export async function localFetch(input: unknown): Promise<Response> {
  let url = typeof input === 'string' ? input : input instanceof URL ? input.href : String((input as { url?: string }).url ?? input);
  if (/^[a-z]+:\/\//i.test(url) && !url.startsWith('file://')) throw new Error(`network access refused: ${url}`);
  if (url.startsWith('file://')) url = decodeURIComponent(new URL(url).pathname);
  const body = await fs.promises.readFile(url);
  return new Response(body, { status: 200, headers: { 'content-type': url.endsWith('.json') ? 'application/json' : 'application/octet-stream' } });
}
