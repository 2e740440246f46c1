import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { SingleBar, Presets } from 'cli-progress';
import type { Command } from 'commander';
import { CliError, type CliContext } from '../context';

const PHOTO = /\.(jpe?g|png)$/i;

/** Photos named on the command line: files as given, folders expanded to the JPEG/PNG files they hold. */
export function collectPhotos(paths: string[]): string[] {
  const photos: string[] = [];
  for (const given of paths) {
    let stat;
    try {
      stat = statSync(given);
    } catch {
      throw new CliError(`No such file or folder: ${given}`);
    }
    if (stat.isDirectory()) {
      const inside = readdirSync(given)
        .filter((name) => PHOTO.test(name))
        .sort()
        .map((name) => path.join(given, name));
      if (inside.length === 0) throw new CliError(`Folder ${given} holds no .jpg, .jpeg or .png file`);
      photos.push(...inside);
    } else if (PHOTO.test(given)) {
      photos.push(given);
    } else {
      throw new CliError(`${given} is not a .jpg, .jpeg or .png photo`);
    }
  }
  return photos;
}

export function registerPhotoCommands(program: Command, context: () => CliContext): void {
  program
    .command('add')
    .description("register a person's face: upload photo(s) or a folder of photos to faces/<person>/")
    .argument('<person>', 'the person\'s name as it should appear in alerts (any characters, e.g. "José María")')
    .argument('<photos...>', 'photo files (.jpg/.jpeg/.png) or folders of them')
    .action(async (person: string, paths: string[]) => {
      const ctx = context();
      if (!ctx.facesBucket) throw new CliError('No faces bucket known: start the stack with `npm start` (it writes .facewatch/stack.json).');
      if (person.includes('/')) throw new CliError('A person name cannot contain "/": it is one folder under faces/.');
      const photos = collectPhotos(paths);
      const s3 = new S3Client({
        endpoint: ctx.endpoint,
        region: ctx.region,
        credentials: ctx.credentials,
        forcePathStyle: true,
        requestChecksumCalculation: 'WHEN_REQUIRED',
      });
      const bar = photos.length > 1 && process.stdout.isTTY ? new SingleBar({ format: ' {bar} {value}/{total} {file}' }, Presets.shades_classic) : undefined;
      bar?.start(photos.length, 0, { file: '' });
      for (const [i, photo] of photos.entries()) {
        const key = `faces/${person}/${path.basename(photo)}`;
        await s3.send(
          new PutObjectCommand({
            Bucket: ctx.facesBucket,
            Key: key,
            Body: readFileSync(photo),
            ContentType: /\.png$/i.test(photo) ? 'image/png' : 'image/jpeg',
          }),
        );
        if (bar) bar.update(i + 1, { file: path.basename(photo) });
        else console.log(`uploaded s3://${ctx.facesBucket}/${key}`);
      }
      bar?.stop();
      console.log(`${photos.length} photo(s) of ${person} uploaded; see them with \`npx facewatch people\`.`);
    });
}
