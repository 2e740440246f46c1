import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';

/**
 * Extracts a zip archive (stored or deflated entries, as `osls package` writes them) into a directory.
 * Small and dependency-free: function bundles are a few files.
 */
export function extractZip(zipFile: string, destination: string): string[] {
  const zip = fs.readFileSync(zipFile);
  // End of central directory: signature 0x06054b50 within the last 64 KiB + 22 bytes.
  let eocd = -1;
  for (let i = zip.length - 22; i >= Math.max(0, zip.length - 65_557); i--) {
    if (zip.readUInt32LE(i) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw new Error(`${zipFile} is not a zip archive (no end of central directory)`);
  const entries = zip.readUInt16LE(eocd + 10);
  let offset = zip.readUInt32LE(eocd + 16);
  const root = path.resolve(destination);
  const written: string[] = [];
  for (let n = 0; n < entries; n++) {
    if (zip.readUInt32LE(offset) !== 0x02014b50) throw new Error(`${zipFile}: corrupt central directory entry ${n}`);
    const method = zip.readUInt16LE(offset + 10);
    const compressedSize = zip.readUInt32LE(offset + 20);
    const nameLength = zip.readUInt16LE(offset + 28);
    const extraLength = zip.readUInt16LE(offset + 30);
    const commentLength = zip.readUInt16LE(offset + 32);
    const externalAttributes = zip.readUInt32LE(offset + 38);
    const localOffset = zip.readUInt32LE(offset + 42);
    const name = zip.toString('utf8', offset + 46, offset + 46 + nameLength);
    offset += 46 + nameLength + extraLength + commentLength;

    const target = path.resolve(root, name);
    if (target !== root && !target.startsWith(root + path.sep)) throw new Error(`${zipFile}: entry ${name} escapes the destination`);
    if (name.endsWith('/')) {
      fs.mkdirSync(target, { recursive: true });
      continue;
    }
    const dataStart = localOffset + 30 + zip.readUInt16LE(localOffset + 26) + zip.readUInt16LE(localOffset + 28);
    const raw = zip.subarray(dataStart, dataStart + compressedSize);
    let data: Buffer;
    if (method === 0) data = raw;
    else if (method === 8) data = zlib.inflateRawSync(raw);
    else throw new Error(`${zipFile}: entry ${name} uses unsupported compression method ${method}`);
    fs.mkdirSync(path.dirname(target), { recursive: true });
    const mode = (externalAttributes >>> 16) & 0o777;
    fs.writeFileSync(target, data, mode ? { mode } : {});
    written.push(name);
  }
  return written;
}
