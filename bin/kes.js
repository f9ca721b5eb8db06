#!/usr/bin/env node
// The CLI is compiled to dist/ by `npm run build` (run by `npm ci` through the prepare script).
import { main } from '../dist/cli/main.js';

// Every command has finished its work (long-running ones wait for a signal inside main) when main resolves, so the
// process ends here: kafkajs can leave a socket open after disconnecting a cluster that fetched from several
// partitions at once, which would otherwise keep the process alive. stdout and stderr are written synchronously
// to files, pipes and terminals on Linux, so nothing printed is lost.
main(process.argv).then((code) => {
  process.exit(code);
});
