// Fails when dist/ differs from what the sources build (run after `npm run bundle`).
import { execFileSync } from 'node:child_process';

const status = execFileSync('git', ['status', '--porcelain', '--', 'dist'], { encoding: 'utf8' });
if (status.trim() !== '') {
  console.error('check-dist: dist/ is stale; run `npm run bundle` and commit dist/:\n' + status);
  process.exit(1);
}
console.log('check-dist: dist/ matches the sources');
