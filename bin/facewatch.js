#!/usr/bin/env node
// `npx facewatch …`: the command-line client of a facewatch stack (local by default).
require('../local/run.js').run('local/cli/main.ts', process.argv.slice(2));
