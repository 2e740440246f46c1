/**
 * Where a Kinesis event source mapping keeps its position (a JSON file per mapping, in
 * <dataDir>/event-source-mappings/): per shard the last finished sequence number, and when the mapping was
 * created. Rewritten atomically (a temporary file renamed over it) after every finished batch.
 */
import fs from 'node:fs';
import path from 'node:path';

/** A mapping's saved position: per shard the last finished sequence number; when it was created. */
export interface MappingCheckpoint {
  streamArn: string;
  /** Epoch ms of the mapping's first start: where a LATEST mapping with nothing finished resumes. */
  createdAt: number;
  shards: Record<string, string>;
}

export function readCheckpoint(file: string, streamArn: string): MappingCheckpoint | undefined {
  let parsed: MappingCheckpoint;
  try {
    parsed = JSON.parse(fs.readFileSync(file, 'utf8')) as MappingCheckpoint;
  } catch {
    return undefined; // none yet (or unreadable: the mapping starts as new)
  }
  if (parsed?.streamArn !== streamArn || typeof parsed.createdAt !== 'number' || typeof parsed.shards !== 'object' || !parsed.shards) return undefined;
  return parsed;
}

export function writeCheckpoint(file: string, checkpoint: MappingCheckpoint): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const temporary = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(temporary, JSON.stringify(checkpoint));
  fs.renameSync(temporary, file);
}
