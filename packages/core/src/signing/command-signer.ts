/**
 * An external program signs: it reads the message on stdin (see messageFor) and prints the signature in
 * hex or base64 on stdout. Its output and stderr are never logged or quoted in errors: a wrapper around a
 * KMS or an HSM may print tokens or key material there.
 */
import { spawn } from 'node:child_process';
import { InputError } from '../errors.js';
import { parseSigningPublicKey } from './keys.js';
import { messageFor, type Signer } from './signer.js';
import { decodeSignature } from './verify.js';

export interface CommandSignerConfig {
  command: string;
  publicKey: string;
  timeoutMs?: number;
  commandInput?: string;
  publicKeyInput?: string;
}

export function commandSigner(config: CommandSignerConfig): Signer {
  const input = config.commandInput ?? 'signing-command';
  const publicKey = parseSigningPublicKey(config.publicKey, config.publicKeyInput ?? 'signing-public-key');
  return {
    publicKey,
    input,
    description: `the command in ${input}`,
    secretForms: () => [],
    async signHash(hashHex, signal) {
      const stdout = await runCommand(config.command, messageFor(publicKey.algorithm, hashHex), {
        input,
        timeoutMs: config.timeoutMs ?? 120_000,
        env: { PERIDIO_SIGN_HASH: hashHex.toLowerCase(), PERIDIO_SIGN_ALGORITHM: publicKey.algorithm },
        signal,
      });
      const signature = decodeSignature(stdout.toString('latin1'));
      if (!signature || signature.length === 0) {
        throw new InputError(
          input,
          `printed ${stdout.length} bytes that are not a signature in hex or base64 (the output is not shown); ` +
            `print only the signature, e.g. openssl pkeyutl -sign … | base64`,
        );
      }
      return signature.toString('hex').toUpperCase();
    },
  };
}

async function runCommand(
  command: string,
  stdin: Buffer,
  options: { input: string; timeoutMs: number; env: Record<string, string>; signal?: AbortSignal },
): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, {
      shell: true,
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...process.env, ...options.env },
      timeout: options.timeoutMs,
      signal: options.signal,
    });
    const out: Buffer[] = [];
    let errBytes = 0;
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => (errBytes += chunk.length));
    child.stdin.on('error', () => {}); // a command that ignores stdin and exits early is judged by its exit code
    child.on('error', (err) =>
      reject(
        new InputError(
          options.input,
          `could not be started (${(err as NodeJS.ErrnoException).code ?? err.name})`,
        ),
      ),
    );
    child.on('close', (code, sig) => {
      if (code === 0) return resolve(Buffer.concat(out));
      const how = sig
        ? `was stopped by ${sig}${sig === 'SIGTERM' ? ` (timeout ${options.timeoutMs / 1000} s?)` : ''}`
        : `exited with code ${code}`;
      reject(
        new InputError(
          options.input,
          `${how}; nothing was signed or created. Its output is not shown (it may hold secrets: ${errBytes} bytes on stderr); run it by hand to see why.`,
        ),
      );
    });
    child.stdin.end(stdin);
  });
}
