import { existsSync, mkdirSync, readdirSync, readFileSync, watch } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import type { CliContext } from '../context';

/** The short (SMS) text of a message kept in the outbox, as a phone would show it. */
export function smsText(file: string): string {
  const kept = JSON.parse(readFileSync(file, 'utf8')) as { Message?: string; MessageStructure?: string; message?: string };
  const message = kept.Message ?? kept.message ?? '';
  if (kept.MessageStructure === 'json') {
    try {
      const perProtocol = JSON.parse(message) as Record<string, string>;
      return perProtocol.sms ?? perProtocol.default ?? message;
    } catch {
      return message;
    }
  }
  return message;
}

export function registerAlertCommands(program: Command, context: () => CliContext): void {
  program
    .command('alerts')
    .description('show the alerts published so far (the local outbox); --follow keeps printing new ones')
    .option('-n, --lines <n>', 'how many of the latest to show', '10')
    .option('-f, --follow', 'keep watching for new alerts')
    .action((options: { lines: string; follow?: boolean }) => {
      const { outboxDir } = context();
      const seen = new Set<string>();
      const list = () => (existsSync(outboxDir) ? readdirSync(outboxDir).filter((f) => f.endsWith('.json')).sort() : []);
      const show = (name: string) => {
        if (seen.has(name)) return;
        seen.add(name);
        try {
          console.log(`${name.replace(/\.json$/, '')}  ${smsText(path.join(outboxDir, name))}`);
        } catch {
          seen.delete(name); // still being written: the next event shows it
        }
      };
      const existing = list();
      existing.slice(-Number(options.lines)).forEach(show);
      existing.forEach((name) => seen.add(name));
      if (!options.follow) {
        if (existing.length === 0) console.log(`No alerts yet (outbox: ${outboxDir}).`);
        return;
      }
      console.log(`Watching ${outboxDir} for alerts (Ctrl-C to stop)…`);
      mkdirSync(outboxDir, { recursive: true });
      watch(outboxDir, () => list().forEach(show));
    });
}
