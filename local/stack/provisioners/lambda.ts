/**
 * AWS::Lambda::Function (its bundle unpacked, its definition kept for the function processes),
 * AWS::Lambda::EventSourceMapping and AWS::Lambda::EventInvokeConfig (kept for the event sources).
 */
import fs from 'node:fs';
import path from 'node:path';
import { extractZip } from '../unzip';
import { strings, type Provisioner } from './provisioner';

export const provisionFunction: Provisioner = async ({ id, props, attrs }, { buildDir, functionsDir, found }) => {
  const code = props.Code as { S3Key?: string; ZipFile?: string };
  const codeDir = path.join(functionsDir, attrs.ref);
  if (code.S3Key) {
    const zip = path.join(buildDir, path.basename(code.S3Key));
    if (!fs.existsSync(zip)) throw new Error(`${id}: its bundle ${zip} is missing from the package`);
    extractZip(zip, codeDir);
  } else if (code.ZipFile) {
    fs.mkdirSync(codeDir, { recursive: true });
    fs.writeFileSync(path.join(codeDir, 'index.js'), code.ZipFile);
  }
  found.definitions.push({
    logicalId: id,
    name: attrs.ref,
    arn: attrs.attributes.Arn,
    handler: String(props.Handler),
    timeoutSeconds: Number(props.Timeout ?? 3),
    memoryMb: Number(props.MemorySize ?? 128),
    environment: strings((props.Environment as { Variables?: Record<string, unknown> })?.Variables),
    codeDir,
  });
};

/** Wired once the functions run (event-sources.ts). */
export const provisionEventSourceMapping: Provisioner = async ({ id }, { found }) => {
  found.mappings.push(id);
};

/** Where a function's failed asynchronous events go (S3 notifications, after Lambda's two retries). */
export const provisionEventInvokeConfig: Provisioner = async ({ props }, { found }) => {
  const onFailure = (props.DestinationConfig as { OnFailure?: { Destination?: string } } | undefined)?.OnFailure?.Destination;
  if (onFailure) found.asyncFailureDestinations.set(String(props.FunctionName), onFailure);
};
