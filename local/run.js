#!/usr/bin/env node
// Runs a TypeScript entry point of the offline twin: esbuild bundles our own sources (dependencies stay
// in node_modules, native/wasm packages load as usual) into .build/, then Node runs the bundle.
// Usage: node local/run.js <entry.ts> [args...]
const path = require('node:path');
const { buildSync } = require('esbuild');

const root = path.resolve(__dirname, '..');
// The local tools run on the project's Node 20 on purpose; the SDK's upgrade notice is in the README, not on every command.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

/** Bundles `entry` (relative to the repository root) and returns the path of the bundle. */
function bundle(entry) {
  const outfile = path.join(root, '.build', entry.replace(/\.ts$/, '.js'));
  buildSync({
    entryPoints: [path.resolve(root, entry)],
    outfile,
    bundle: true,
    platform: 'node',
    target: 'node20',
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
