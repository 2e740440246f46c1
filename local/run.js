#!/usr/bin/env node
// Runs a TypeScript entry point of the offline twin: esbuild bundles our own sources (dependencies stay
// in node_modules, native/wasm packages load as usual) into .build/, then Node runs the bundle.
// Usage: node local/run.js <entry.ts> [args...]
const path = require('node:path');
const { buildSync } = require('esbuild');

const root = path.resolve(__dirname, '..');

/** Bundles `entry` (relative to the repository root) and returns the path of the bundle. */
function bundle(entry) {
  const outfile = path.join(root, '.build', entry.replace(/\.ts$/, '.js'));
  buildSync({
    entryPoints: [path.resolve(root, entry)],
    outfile,
    bundle: true,
    platform: 'node',
    target: 'node24',
    format: 'cjs',
    packages: 'external',
    sourcemap: 'inline',
    logLevel: 'warning',
  });
  return outfile;
}

/** Bundles and runs `entry` as if it were the main module, with `args` as its command-line arguments. */
function run(entry, args) {
  const outfile = bundle(entry);
  process.argv = [process.argv[0], outfile, ...args];
  require(outfile);
}

if (require.main === module) {
  const [, , entry, ...args] = process.argv;
  if (!entry) {
    console.error('usage: node local/run.js <entry.ts> [args...]');
    process.exit(2);
  }
  run(entry, args);
}

module.exports = { bundle, run };
