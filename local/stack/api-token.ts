/** The local HTTP API's bearer token, which stands in for AWS_IAM authorization. */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

/** The API token: random on first start, kept in <dataDir>/api-token (owner-only), its SHA-256 given to the API. */
export function apiToken(dataDir: string): { token: string; file: string } {
  const file = path.join(dataDir, 'api-token');
  if (fs.existsSync(file)) {
    const token = fs.readFileSync(file, 'utf8').trim();
    if (token) {
      fs.chmodSync(file, 0o600);
      return { token, file };
    }
  }
  const token = randomBytes(32).toString('base64url');
  fs.writeFileSync(file, `${token}\n`, { mode: 0o600 });
  return { token, file };
}
