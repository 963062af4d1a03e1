// node:sqlite still prints an ExperimentalWarning on Node 24; it is noise for users of a CLI. Install the
// filter before the registry's modules load (hence the dynamic import below; the bundle is not ESM, so no
// top-level await).
const defaultWarningListeners = process.listeners('warning');
process.removeAllListeners('warning');
process.on('warning', (warning) => {
  if (warning.name === 'ExperimentalWarning' && /SQLite/i.test(warning.message)) return;
  for (const listener of defaultWarningListeners) listener(warning);
});

import('./cli.js')
  .then(({ runCli }) => runCli(process.argv.slice(2)))
  .catch((err: unknown) => {
    process.stderr.write(`peridio-registry: ${(err as Error)?.stack ?? String(err)}\n`);
    process.exit(1);
  });
