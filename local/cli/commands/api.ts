import type { Command } from 'commander';
import { callApi, type CliContext } from '../context';

type Row = Record<string, unknown>;

/** The list inside an API answer, whatever its name ({items: [...]}, {people: [...]}...). */
function listOf(payload: unknown): Row[] {
  if (Array.isArray(payload)) return payload as Row[];
  if (payload && typeof payload === 'object') {
    const list = Object.values(payload).find(Array.isArray);
    if (list) return list as Row[];
  }
  return [];
}

function pick(row: Row, fields: string[]): Row {
  return Object.fromEntries(fields.filter((f) => row[f] !== undefined).map((f) => [f, row[f]]));
}

export function registerApiCommands(program: Command, context: () => CliContext): void {
  program
    .command('people')
    .description('list registered people, their faces and rejected photos')
    .option('--json', 'print the API answer as JSON')
    .action(async (options: { json?: boolean }) => {
      const payload = await callApi(context(), 'GET', '/people');
      if (options.json) return void console.log(JSON.stringify(payload, null, 2));
      const people = listOf(payload);
      if (people.length === 0) return void console.log('No one registered yet: `npx facewatch add "<name>" <photo>`.');
      console.table(
        people.map((p) => ({
          ...pick(p, ['personId', 'displayName']),
          faces: Array.isArray(p.faces) ? p.faces.length : p.faceCount,
          rejected: Array.isArray(p.rejectedPhotos) ? p.rejectedPhotos.length : p.rejectedCount,
          ...pick(p, ['lastSeenAt']),
        })),
      );
    });

  program
    .command('sightings')
    .description('show recent sightings, newest first')
    .option('--person <personId>', 'only this person (UNKNOWN for unknown faces)')
    .option('--camera <camera>', 'only this camera')
    .option('--limit <n>', 'how many', '20')
    .option('--json', 'print the API answer as JSON')
    .action(async (options: { person?: string; camera?: string; limit: string; json?: boolean }) => {
      const query = new URLSearchParams({ limit: options.limit });
      if (options.person) query.set('personId', options.person);
      if (options.camera) query.set('camera', options.camera);
      const payload = await callApi(context(), 'GET', `/sightings?${query}`);
      if (options.json) return void console.log(JSON.stringify(payload, null, 2));
      const sightings = listOf(payload);
      if (sightings.length === 0) return void console.log('No sightings yet.');
      console.table(sightings.map((s) => pick(s, ['seenAt', 'camera', 'personId', 'displayName', 'similarity'])));
    });

  program
    .command('erase')
    .description("erase a person: faces, photos, sightings and alert state")
    .argument('<personId>')
    .action(async (personId: string) => {
      const payload = await callApi(context(), 'DELETE', `/people/${encodeURIComponent(personId)}`);
      console.log(JSON.stringify(payload, null, 2));
    });

  const visitors = program.command('visitors').description('recurring unknown visitors: list (default), name one as a person, erase one');
  visitors
    .command('list', { isDefault: true })
    .option('--json', 'print the API answer as JSON')
    .action(async (options: { json?: boolean }) => {
      const payload = await callApi(context(), 'GET', '/visitors?limit=100');
      if (options.json) return void console.log(JSON.stringify(payload, null, 2));
      const list = listOf(payload);
      if (list.length === 0) return void console.log('No recurring visitors yet (faces that match nobody become visitors while the processor runs).');
      console.table(list.map((v) => pick(v, ['visitorId', 'visits', 'firstSeenAt', 'lastSeenAt', 'lastSeenCamera'])));
    });
  visitors
    .command('name')
    .description("register a visitor's best snapshot as a person (new, by name; or existing, with --person)")
    .argument('<visitorId>')
    .argument('[name]', 'display name of the person (their folder under faces/)')
    .option('--person <personId>', 'an existing person instead of a name')
    .action(async (visitorId: string, name: string | undefined, options: { person?: string }) => {
      const body = options.person ? { personId: options.person } : { name };
      console.log(JSON.stringify(await callApi(context(), 'POST', `/visitors/${encodeURIComponent(visitorId)}/name`, body), null, 2));
    });
  visitors
    .command('erase')
    .description("erase a visitor: faces, snapshots, sightings and record")
    .argument('<visitorId>')
    .action(async (visitorId: string) => {
      console.log(JSON.stringify(await callApi(context(), 'DELETE', `/visitors/${encodeURIComponent(visitorId)}`), null, 2));
    });

  const processor = program.command('processor').description('start, stop or describe the face-search processor');
  for (const action of ['start', 'stop'] as const) {
    processor
      .command(action)
      .option('--camera <camera>', 'only this camera (default: all)')
      .action(async (options: { camera?: string }) => {
        const query = options.camera ? `?camera=${encodeURIComponent(options.camera)}` : '';
        console.log(JSON.stringify(await callApi(context(), 'POST', `/processor/${action}${query}`), null, 2));
      });
  }
  processor
    .command('status', { isDefault: true })
    .option('--camera <camera>', 'only this camera (default: all)')
    .action(async (options: { camera?: string }) => {
      const query = options.camera ? `?camera=${encodeURIComponent(options.camera)}` : '';
      console.log(JSON.stringify(await callApi(context(), 'GET', `/processor${query}`), null, 2));
    });
}
