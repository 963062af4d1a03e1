/**
 * The bundled sign-binary action, given the private key in each form users pass it: every form derived
 * from the key (seed hex and base64, uppercase hex, the PKCS#8 line, base64 of the PEM) is masked with
 * `::add-mask::` before the action writes anything else, and none of them appears in the rest of the output.
 * The binary does not exist, so the run fails after reading its inputs; masking must not depend on success.
 */
import { createPrivateKey } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runAction } from '../helpers/run-action.js';
import { startScene, type Scene } from './scene.js';

let scene: Scene;
beforeAll(async () => {
  scene = await startScene();
});
afterAll(async () => {
  await scene?.stop();
});

function forms(pem: string) {
  const der = createPrivateKey(pem).export({ type: 'pkcs8', format: 'der' });
  const seed = der.subarray(der.length - 32);
  const canonical = `-----BEGIN PRIVATE KEY-----\n${der.toString('base64')}\n-----END PRIVATE KEY-----\n`;
  return {
    'seed hex': seed.toString('hex'),
    'seed hex, uppercase': seed.toString('hex').toUpperCase(),
    'seed base64': seed.toString('base64'),
    'PKCS#8 line': der.toString('base64'),
    'base64 of the PEM': Buffer.from(canonical).toString('base64'),
  };
}

describe('sign-binary masks every form of the private key first', () => {
  const cases = (pem: string): [string, string][] => [
    ['PEM', pem],
    ['base64 of the PEM', Buffer.from(pem).toString('base64')],
    ['seed hex', forms(pem)['seed hex']],
    ['seed base64', forms(pem)['seed base64']],
  ];

  it('for the key as PEM, base64 of the PEM, seed hex and seed base64', { timeout: 60_000 }, async () => {
    const binaryPrn =
      'prn:1:00000000-0000-4000-8000-000000000000:binary:11111111-1111-4111-8111-111111111111';
    for (const [form, value] of cases(scene.key.privatePem)) {
      const run = await runAction('sign-binary', {
        'base-url': scene.registry.baseUrl,
        'api-key': scene.registry.apiKey,
        'binary-prn': binaryPrn,
        'signing-key-private': value,
      });
      expect(run.code, form).toBe(1);
      const lines = run.stdout.split('\n').filter((line) => line !== '');
      const firstOther = lines.findIndex((line) => !line.startsWith('::add-mask::'));
      const masks = lines.slice(0, firstOther === -1 ? lines.length : firstOther).map((l) => l.slice(12));
      // Masks come before any other line: the API key and every form of the private key.
      expect(masks, form).toContain(scene.registry.apiKey);
      for (const [name, secret] of Object.entries(forms(scene.key.privatePem)))
        expect(masks, `${form}: ${name}`).toContain(secret);
      expect(
        lines.slice(masks.length).some((l) => l.startsWith('::add-mask::')),
        form,
      ).toBe(false);
      const rest =
        lines.slice(masks.length).join('\n') + run.stderr + run.summary + JSON.stringify(run.outputs);
      for (const [name, secret] of Object.entries(forms(scene.key.privatePem)))
        expect(rest.includes(secret), `${form}: ${name} printed`).toBe(false);
    }
  });
});
