// Imported first by support.ts: hides node:sqlite's ExperimentalWarning in test output, as main.ts does for users.
const defaults = process.listeners('warning');
process.removeAllListeners('warning');
process.on('warning', (warning) => {
  if (warning.name === 'ExperimentalWarning' && /SQLite/i.test(warning.message)) return;
  for (const listener of defaults) listener(warning);
});
export {};
