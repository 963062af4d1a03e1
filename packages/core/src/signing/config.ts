/** Which signer a step uses, as read from its inputs: exactly one of the three kinds. */
import { commandSigner } from './command-signer.js';
import { pkcs11Signer, type Pkcs11Config } from './pkcs11.js';
import { privateKeySigner, type Signer } from './signer.js';

export type SignerConfig =
  | { kind: 'private-key'; privateKey: string; input: string }
  | ({ kind: 'pkcs11' } & Pkcs11Config)
  | { kind: 'command'; command: string; publicKey: string };

export async function createSigner(config: SignerConfig): Promise<Signer> {
  switch (config.kind) {
    case 'private-key':
      return privateKeySigner(config.privateKey, config.input);
    case 'pkcs11':
      return pkcs11Signer(config);
    case 'command':
      return commandSigner({ command: config.command, publicKey: config.publicKey });
  }
}
