// Builds one ncc bundle per action (and the registry) into dist/<name>/index.js.
// Bundles are committed because runners execute them; `npm run check-dist` fails when they are stale.
import { Buffer } from 'node:buffer';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

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
  if (name === 'registry') await buildConsole(tmp);
  rmSync(out, { recursive: true, force: true });
  renameSync(tmp, out);
  // The size, chunks included, so a change that drags a second copy of a dependency in shows at once.
  const chunks = readdirSync(out).filter((f) => f.endsWith('.js'));
  const bytes = chunks.reduce((sum, f) => sum + statSync(join(out, f)).size, 0);
  const files = chunks.length > 1 ? ` in ${chunks.length} files` : '';
  console.log(`bundle: dist/${name}/index.js ${(bytes / 1024).toFixed(0)} KiB${files}`);
}

/**
 * The console's SHA-256 WebAssembly module, as base64: packages/console/src/sha256/assemble.ts emits the
 * bytes (no toolchain), run here through an esbuild bundle so plain Node can load the TypeScript.
 */
async function sha256Wasm(src, scratchDir) {
  const { build } = await import('esbuild');
  const script = join(scratchDir, 'assemble-sha256.mjs');
  await build({
    entryPoints: [join(src, 'sha256', 'assemble.ts')],
    outfile: script,
    bundle: true,
    format: 'esm',
    platform: 'node',
    logLevel: 'warning',
  });
  const { assembleSha256 } = await import(pathToFileURL(script).href);
  rmSync(script);
  return Buffer.from(assembleSha256()).toString('base64');
}

/**
 * The web console (packages/console) goes beside the registry bundle, which serves it at /console/. esbuild
 * output is deterministic for the same sources; no source maps, no build-time stamps.
 */
async function buildConsole(registryOut) {
  const { build } = await import('esbuild');
  const src = join(root, 'packages', 'console', 'src');
  const out = join(registryOut, 'console');
  mkdirSync(out, { recursive: true });
  await build({
    entryPoints: {
      app: join(src, 'main.tsx'),
      'hash-worker': join(src, 'hash-worker.ts'),
      'part-worker': join(src, 'part-worker.ts'),
    },
    define: { SHA256_WASM_BASE64: JSON.stringify(await sha256Wasm(src, registryOut)) },
    outdir: out,
    bundle: true,
    minify: true,
    format: 'esm',
    target: 'es2022',
    platform: 'browser',
    jsx: 'automatic',
    jsxImportSource: 'preact',
    legalComments: 'none',
    logLevel: 'warning',
    tsconfig: join(root, 'packages', 'console', 'tsconfig.json'),
  });
  copyFileSync(join(src, 'index.html'), join(out, 'index.html'));
  copyFileSync(join(src, 'styles.css'), join(out, 'styles.css'));
  console.log('bundle: dist/registry/console/');
}
