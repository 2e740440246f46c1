/** The stack's own lines: all of them to <dataDir>/logs/stack.log, to the console as quiet/verbose say. */
import fs from 'node:fs';

export interface StackLog {
  /** Skipped resources, invocations, timings: the console only with verbose. */
  debug(line: string): void;
  /** Progress and SMS: the console unless quiet. */
  info(line: string): void;
  /** What does not behave as on AWS, or failed: always on the console. */
  warn(line: string): void;
  close(): Promise<void>;
}

export function stackLog(file: string, { print, quiet, verbose }: { print: (line: string) => void; quiet?: boolean; verbose?: boolean }): StackLog {
  const stream = fs.createWriteStream(file, { flags: 'a' });
  const write = (line: string) => stream.write(`${new Date().toISOString()} ${line}\n`);
  return {
    debug: (line) => {
      write(line);
      if (verbose) print(`· ${line}`);
    },
    info: (line) => {
      write(line);
      if (!quiet) print(line);
    },
    warn: (line) => {
      write(`WARN ${line}`);
      print(`! ${line}`);
    },
    close: () => new Promise<void>((resolve) => stream.end(resolve)),
  };
}
