import { z } from 'zod';
import { photoUploads } from '../../shared/composition/review-routes';
import { apiHandler, json, jsonBody, parseInput, type ApiEvent } from '../../shared/middleware/http';
import { personTarget } from '../../shared/middleware/review-params';
import { planUploads } from '../../shared/use-cases/photo-uploads';

/** POST /uploads: presigned PUTs into faces/<person>/ for photos sent from the browser (indexing stays S3-triggered). */
const ports = photoUploads();

const body = z.strictObject({
  person: personTarget,
  files: z
    .array(
      z.strictObject({
        fileName: z.string().min(1).max(255),
        contentType: z.enum(['image/jpeg', 'image/png'], { error: 'photos must be JPEG or PNG (image/jpeg, image/png)' }),
        bytes: z.number().int().min(1, 'the file is empty'),
      }),
    )
    .min(1, 'give at least one photo')
    .max(20, 'at most 20 photos at a time'),
});

export async function main(event: ApiEvent) {
  const { person, files } = parseInput(body, jsonBody(event), 'body');
  return json(201, await planUploads(ports, { target: person, files }));
}

export const handler = apiHandler(main);
