/**
 * What the CLI's e2e tests share with packages/cli/README.md: its fenced `sh` blocks, read from the
 * file so the tests run them word for word, and the getting-started key setup the "Releases" section
 * continues from.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('../..', import.meta.url).pathname;
const readme = readFileSync(join(root, 'packages', 'cli', 'README.md'), 'utf8');

/** The first `count` ```sh blocks after `heading` (a whole line of the README). */
export function shBlocks(heading: string, count: number): string[] {
  const at = readme.indexOf(`\n${heading}\n`);
  if (at < 0) throw new Error(`packages/cli/README.md has no heading '${heading}'`);
  const blocks: string[] = [];
  let from = at;
  while (blocks.length < count) {
    const start = readme.indexOf('\n```sh\n', from);
    if (start < 0)
      throw new Error(`packages/cli/README.md has fewer than ${count} sh blocks after '${heading}'`);
    const end = readme.indexOf('\n```\n', start + 1);
    blocks.push(readme.slice(start + '\n```sh\n'.length, end + 1));
    from = end;
  }
  return blocks;
}

// The key setup of the README's getting-started section: a signing key pair named prod in config.json.
export const KEY_SETUP = `
openssl genpkey -algorithm ed25519 -out private.pem
KEY_PRN=$(peridio signing-keys create --name prod \\
    --value "$(openssl pkey -in private.pem -pubout -outform DER | tail -c 32 | base64)" --output prn)
mkdir -p "$HOME/.config/peridio"
echo '{"version": 2, "profiles": {}, "signing_key_pairs": {"prod": {"signing_key_prn": "'"$KEY_PRN"'", "signing_key_private_path": "'"$PWD/private.pem"'"}}}' \\
    > "$HOME/.config/peridio/config.json"
`;
