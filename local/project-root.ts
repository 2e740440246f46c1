import fs from 'node:fs';
import path from 'node:path';

/**
 * The repository root (the folder holding serverless.yml): __dirname is under local/ when run by ts-jest and
 * under .build/local/ when bundled by local/run.js, so it is found by walking up.
 */
export function projectRoot(from = __dirname): string {
  let dir = from;
  while (!fs.existsSync(path.join(dir, 'serverless.yml'))) {
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`Cannot find the project root (serverless.yml) above ${from}`);
    dir = parent;
  }
  return dir;
}
