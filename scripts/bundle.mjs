// Builds one ncc bundle per action (and the registry) into dist/<name>/index.js.
// Bundles are committed because runners execute them; `npm run check-dist` fails when they are stale.
import { spawnSync } from 'node:child_process';
import { existsSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const entries = [
  'create-artifact-version',
  'upload-binary',
  'sign-binary',
  'publish-binary',
  'create-bundle',
  'create-release',
  'promote-release',
  'verify-update',
  'registry',
  'cli',
];
const only = process.argv.slice(2);

for (const name of entries) {
  if (only.length > 0 && !only.includes(name)) continue;
  const entry = join(root, 'packages', name, 'src', 'main.ts');
  if (!existsSync(entry)) continue;
  const out = join(root, 'dist', name);
  // Build beside the old bundle and swap it in, so a test that is running it never sees a half-written dir.
  const tmp = join(root, 'dist', `.${name}.${process.pid}`);
  rmSync(tmp, { recursive: true, force: true });
  const result = spawnSync(
    process.execPath,
    [
      join(root, 'node_modules/@vercel/ncc/dist/ncc/cli.js'),
      'build',
      entry,
      '-o',
      tmp,
      '--transpile-only',
      '--quiet',
      '--license',
      'licenses.txt',
    ],
    { stdio: 'inherit', cwd: root },
  );
  if (result.status !== 0) {
    console.error(`bundle: ncc failed for ${name}`);
    process.exit(result.status ?? 1);
  }
  rmSync(out, { recursive: true, force: true });
  renameSync(tmp, out);
  console.log(`bundle: dist/${name}/index.js`);
}
