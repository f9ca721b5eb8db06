#!/usr/bin/env node
// The CLI is compiled to dist/ by `npm run build` (run by `npm ci` through the prepare script).
import { main } from '../dist/pipeline/cli/main.js';

main(process.argv).then((code) => {
  process.exitCode = code;
});
