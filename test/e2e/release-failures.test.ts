/**
 * Each bad input or bad state of the release actions fails the step with one annotation that names the
 * input or the binary, and a corrected re-run then succeeds. Against the registry process, bundled actions.
 */
import { readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ActionRun } from '../helpers/run-action.js';
import { newKeyPair, signatureVerifies } from './scene.js';
import {
  apiInputs,
  expectOneAnnotation,
  expectSuccess,
  publishMatrix,
  startScene,
  step,
  TARGETS,
  type Scene,
} from './release-helpers.js';

let scene: Scene;
let published: Awaited<ReturnType<typeof publishMatrix>>;
let bundle: ActionRun;
let release: ActionRun;

beforeAll(async () => {
  scene = await startScene();
  published = await publishMatrix(scene);
  // v2.0.0: the matrix job for the last target failed, so only two targets were published.
  await publishMatrix(scene, { tag: 'v2.0.0', targets: TARGETS.slice(0, 2) });
  bundle = await step('create-bundle', { ...apiInputs(scene), artifact: 'firmware' });
  expectSuccess(bundle);
  release = await step('create-release', {
    ...apiInputs(scene),
    'bundle-prn': bundle.outputs['bundle-prn']!,
    cohort: 'production',
    product: 'gateway',
  });
  expectSuccess(release);
}, 180_000);
afterAll(async () => {
  await scene?.stop();
});

const verifyInputs = (extra: Record<string, string> = {}) => ({
  ...apiInputs(scene),
  device: `dev-${Math.random().toString(36).slice(2)}`,
  'create-device': 'true',
  cohort: release.outputs['cohort-prn']!,
  'release-version': '0.9.0',
  'trusted-signing-keys': scene.key.publicPem,
  ...extra,
});

describe('create-bundle', () => {
  it('a failed matrix job makes expect-targets fail naming the missing target, and creates no bundle', async () => {
    const before = (await scene.api<{ bundles: unknown[] }>('GET', '/bundles?limit=100')).body.bundles.length;
    const run = await step(
      'create-bundle',
      { ...apiInputs(scene), artifact: 'firmware', 'expect-targets': JSON.stringify(TARGETS) },
      'v2.0.0',
    );
    expectOneAnnotation(
      run,
      "Input 'expect-targets'",
      `target ${TARGETS[2]} has no signed binary`,
      'firmware@2.0.0',
      'Re-run it',
    );
    expect((await scene.api<{ bundles: unknown[] }>('GET', '/bundles?limit=100')).body.bundles).toHaveLength(
      before,
    );
    // The corrected re-run: the missing target is published, the same step now succeeds.
    await publishMatrix(scene, { tag: 'v2.0.0', targets: [TARGETS[2]!] });
    const again = await step(
      'create-bundle',
      { ...apiInputs(scene), artifact: 'firmware', 'expect-targets': JSON.stringify(TARGETS) },
      'v2.0.0',
    );
    expectSuccess(again);
    expect(JSON.parse(again.outputs.binaries!)).toHaveLength(3);
  }, 120_000);

  it('a version with no signed binary fails naming the artifact input', async () => {
    await step('create-artifact-version', { ...apiInputs(scene), artifact: 'firmware' }, 'v3.0.0');
    const run = await step('create-bundle', { ...apiInputs(scene), artifact: 'firmware' }, 'v3.0.0');
    expectOneAnnotation(run, "Input 'artifact'", 'firmware@3.0.0 has no signed binary', 'publish');
  });

  it('an unknown artifact version in artifact-versions fails naming that input', async () => {
    const run = await step('create-bundle', {
      ...apiInputs(scene),
      'artifact-versions': 'firmware@1.0.0\nfirmware@9.9.9',
    });
    expectOneAnnotation(run, "Input 'artifact-versions'", 'no version 9.9.9');
  });
});

describe('create-bundle signing', () => {
  it('signs the bundle hash with a registered key; an unregistered key fails naming signing-key-private', async () => {
    const signed = await step('create-bundle', {
      ...apiInputs(scene),
      artifact: 'firmware',
      'signing-key-private': scene.key.privatePem,
    });
    expectSuccess(signed);
    expect(signed.outputs['bundle-prn']).toBe(bundle.outputs['bundle-prn']);
    const sig = (
      await scene.api<{ bundle_signature: { signature: string; bundle_prn: string } }>(
        'GET',
        `/bundle_signatures/${signed.outputs['bundle-signature-prn']}`,
      )
    ).body.bundle_signature;
    expect(sig.bundle_prn).toBe(bundle.outputs['bundle-prn']);
    expect(signatureVerifies(signed.outputs['bundle-hash']!, sig.signature, scene.key.publicPem)).toBe(true);
    const stranger = newKeyPair();
    const run = await step('create-bundle', {
      ...apiInputs(scene),
      artifact: 'firmware',
      'signing-key-private': stranger.privatePem,
    });
    expectOneAnnotation(run, "Input 'signing-key-private'", 'not a registered signing key', 'is kept');
    for (const line of stranger.privatePem
      .split('\n')
      .filter((l) => l.length > 20 && !l.startsWith('-----'))) {
      expect(run.stdout.replace(/^::add-mask::.*$/gm, '')).not.toContain(line);
    }
  });
});

describe('create-release', () => {
  const inputs = (extra: Record<string, string>) => ({
    ...apiInputs(scene),
    'bundle-prn': bundle.outputs['bundle-prn']!,
    ...extra,
  });

  it('a cohort name that does not exist, without product, fails naming cohort and product', async () => {
    const run = await step('create-release', inputs({ cohort: 'no-such-cohort' }));
    expectOneAnnotation(run, "Input 'cohort'", "no cohort 'no-such-cohort'", '`product`');
  });

  it('a version that is not SemVer fails naming version', async () => {
    const run = await step('create-release', inputs({ cohort: 'production', version: '1.0' }));
    expectOneAnnotation(run, "Input 'version'", "'1.0' is not a semantic version");
  });

  it('a phase value out of range fails naming phase-value', async () => {
    for (const value of ['1.5', '-0.1', 'ten']) {
      const run = await step('create-release', inputs({ cohort: 'production', 'phase-value': value }));
      expectOneAnnotation(run, "Input 'phase-value'", `'${value}' is not a phase`);
    }
  });

  it("while the cohort's latest release is phased, a new one fails naming it; complete-previous completes it first", async () => {
    const canary = await step('create-bundle', { ...apiInputs(scene), artifact: 'firmware' }, 'v2.0.0');
    expectSuccess(canary);
    const phased = await step(
      'create-release',
      inputs({
        'bundle-prn': canary.outputs['bundle-prn']!,
        cohort: 'staging',
        product: 'gateway',
        'phase-value': '0.5',
      }),
      'v2.0.0',
    );
    expectSuccess(phased);
    await step('create-artifact-version', { ...apiInputs(scene), artifact: 'firmware' }, 'v2.1.0');
    const next = await step('create-release', inputs({ cohort: 'staging', name: 'v2.1.0-rc' }), 'v2.1.0');
    expectOneAnnotation(
      next,
      "Input 'complete-previous'",
      "latest release 'v2.0.0'",
      phased.outputs['release-prn']!,
      'phase-value 0.5',
    );
    const completed = await step(
      'create-release',
      inputs({ cohort: 'staging', name: 'v2.1.0-rc', 'complete-previous': 'true' }),
      'v2.1.0',
    );
    expectSuccess(completed);
    const prev = (
      await scene.api<{ release: { phase_value: number; next_release_prn: string } }>(
        'GET',
        `/releases/${phased.outputs['release-prn']}`,
      )
    ).body.release;
    expect(prev).toMatchObject({ phase_value: 1, next_release_prn: completed.outputs['release-prn'] });
  }, 120_000);

  it('the same name with another bundle is a conflict naming name', async () => {
    const other = await step('create-bundle', {
      ...apiInputs(scene),
      artifact: 'firmware',
      targets: TARGETS[0]!,
    });
    expectSuccess(other);
    const run = await step(
      'create-release',
      inputs({ 'bundle-prn': other.outputs['bundle-prn']!, cohort: 'production' }),
    );
    expectOneAnnotation(run, "Input 'name'", "already has a release named 'v1.0.0'", 'another bundle');
  });
});

describe('promote-release', () => {
  it('refuses to lower a phase and to re-phase a completed release, changing nothing', async () => {
    const b = await step('create-bundle', {
      ...apiInputs(scene),
      artifact: 'firmware',
      targets: TARGETS[1]!,
    });
    const r = await step('create-release', {
      ...apiInputs(scene),
      'bundle-prn': b.outputs['bundle-prn']!,
      cohort: 'canary-cohort',
      product: 'gateway',
      'phase-value': '0.5',
    });
    expectSuccess(r);
    const prn = r.outputs['release-prn']!;
    expectOneAnnotation(
      await step('promote-release', { ...apiInputs(scene), 'release-prn': prn, 'phase-value': '0.2' }),
      "Input 'phase-value'",
      'would lower it',
    );
    expectOneAnnotation(
      await step('promote-release', { ...apiInputs(scene), 'release-prn': prn, 'phase-value': '5' }),
      "Input 'phase-value'",
      'cannot be compared',
    );
    expect(
      (await scene.api<{ release: { phase_value: number } }>('GET', `/releases/${prn}`)).body.release
        .phase_value,
    ).toBe(0.5);
    const done = await step('promote-release', {
      ...apiInputs(scene),
      'release-prn': prn,
      'phase-value': '1',
    });
    expectSuccess(done);
    expect(done.outputs).toMatchObject({ 'phase-value': '1', changed: 'true' });
    expectOneAnnotation(
      await step('promote-release', { ...apiInputs(scene), 'release-prn': prn, 'phase-value': '0.9' }),
      "Input 'phase-value'",
      'is complete',
    );
    const again = await step('promote-release', {
      ...apiInputs(scene),
      'release-prn': prn,
      'phase-value': '1',
    });
    expectSuccess(again);
    expect(again.outputs.changed).toBe('false');
  }, 120_000);
});

describe('verify-update', () => {
  it('passes for the untouched release (the control for the cases below)', async () => {
    const ok = await step('verify-update', verifyInputs());
    expectSuccess(ok);
    expect(ok.outputs).toMatchObject({ status: 'update', verified: '3' });
  });

  it('a malformed trusted key fails naming trusted-signing-keys', async () => {
    const r = await step('verify-update', verifyInputs({ 'trusted-signing-keys': 'not-a-key' }));
    expectOneAnnotation(r, "Input 'trusted-signing-keys'", 'key 1');
    const priv = await step('verify-update', verifyInputs({ 'trusted-signing-keys': scene.key.privatePem }));
    expectOneAnnotation(priv, "Input 'trusted-signing-keys'", 'PRIVATE key');
    expect(priv.stdout).not.toContain(scene.key.privatePem.split('\n')[1]!);
  });

  it('(b) signatures by a key the repository does not trust fail naming the binary and target', async () => {
    const r = await step('verify-update', verifyInputs({ 'trusted-signing-keys': newKeyPair().publicPem }));
    const first = [...published.keys()].sort()[0]!;
    expectOneAnnotation(
      r,
      `binary ${published.get(first)!.run.outputs['binary-prn']} (target ${first})`,
      '0 signature(s) verify with a trusted key, 1 needed',
      'trusted-signing-keys',
    );
  });

  it('a threshold above the number of trusted signatures fails', async () => {
    const r = await step(
      'verify-update',
      verifyInputs({
        'trusted-signing-keys': `${scene.key.publicPem}\n${newKeyPair().publicValue}`,
        'trusted-signing-key-threshold': '2',
      }),
    );
    expectOneAnnotation(r, '1 signature(s) verify with a trusted key, 2 needed');
  });

  it('(c) a manifest without a target the repository built fails naming the target', async () => {
    const partial = await step(
      'create-bundle',
      { ...apiInputs(scene), artifact: 'firmware', targets: TARGETS.slice(0, 2).join('\n') },
      'v2.0.0',
    );
    expectSuccess(partial);
    const r = await step(
      'create-release',
      {
        ...apiInputs(scene),
        'bundle-prn': partial.outputs['bundle-prn']!,
        cohort: 'partial',
        product: 'gateway',
      },
      'v2.0.0',
    );
    expectSuccess(r);
    const v = await step(
      'verify-update',
      verifyInputs({ cohort: r.outputs['cohort-prn']!, 'expect-targets': TARGETS.join('\n') }),
    );
    expectOneAnnotation(v, `no binary for target ${TARGETS[2]}`, "input 'expect-targets'");
  });

  it('(a) bytes changed on disk behind the registry fail naming the binary, target and hashes', async () => {
    const target = TARGETS[1]!;
    const { file, run: pub } = published.get(target)!;
    // The local blob store keeps a binary's content as its part files in blobs/<2 hex>/<sha256>/.
    const dir = join(scene.registry.dataDir, 'blobs', file.sha256.slice(0, 2), file.sha256);
    const parts = readdirSync(dir);
    expect(parts.length).toBeGreaterThan(0);
    const first = join(dir, parts.sort()[0]!);
    writeFileSync(first, Buffer.alloc(statSync(first).size, 0x5a));
    const v = await step('verify-update', verifyInputs());
    expectOneAnnotation(
      v,
      `binary ${pub.outputs['binary-prn']} (target ${target})`,
      `the manifest says ${file.sha256}`,
      'not what was signed',
    );
  });
});
