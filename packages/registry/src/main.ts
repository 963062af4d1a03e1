// node:sqlite exists from Node 22.5 and is usable without a flag from Node 24; on an older Node the import
// below would die with ERR_UNKNOWN_BUILTIN_MODULE and a stack trace, so say what is needed before it runs.
const nodeMajor = Number(process.versions.node.split('.')[0]);
if (nodeMajor < 24) {
  process.stderr.write(
    `peridio-registry needs Node 24 or later (found ${process.version}). ` +
      'From a clone of peridio-actions, `npm ci` installs one: run `npx peridio-registry serve`.\n',
  );
  process.exit(1);
}

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
