/** README claims about downloads and deletion, each checked against the registry. */
import { afterEach, describe, expect, it } from 'vitest';
import { signableBinary, startTestRegistry, type TestRegistry } from './support.js';

const open: TestRegistry[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((t) => t.close()));
});

async function start(options: Parameters<typeof startTestRegistry>[0] = {}) {
  const t = await startTestRegistry(options);
  open.push(t);
  return t;
}

describe('Range on presigned downloads (README claims)', () => {
  it('answers a multi-range whole, HEAD with Range as 206 without a body, and 416 with Content-Range', async () => {
    const t = await start();
    const content = Buffer.from('0123456789abcdef');
    const binary = await signableBinary(t, content, 'range');
    const url = (await t.api('GET', `/binaries/${binary.prn}/download_url`)).body.download_url;

    const multi = await fetch(url, { headers: { range: 'bytes=0-1,4-5' } });
    expect(multi.status).toBe(200);
    expect(multi.headers.get('content-range')).toBeNull();
    expect(Buffer.from(await multi.arrayBuffer()).equals(content)).toBe(true);

    const head = await fetch(url, { method: 'HEAD', headers: { range: 'bytes=2-5' } });
    expect(head.status).toBe(206);
    expect(head.headers.get('content-range')).toBe('bytes 2-5/16');
    expect(head.headers.get('content-length')).toBe('4');
    expect((await head.arrayBuffer()).byteLength).toBe(0);

    const beyond = await fetch(url, { headers: { range: 'bytes=16-' } });
    expect(beyond.status).toBe(416);
    expect(beyond.headers.get('content-range')).toBe('bytes */16');
    await beyond.arrayBuffer();
  });

  it('a Range on a 0-byte binary is 416 with bytes */0; without Range it is an empty 200', async () => {
    const t = await start();
    const binary = await signableBinary(t, Buffer.alloc(0), 'empty-range');
    const url = (await t.api('GET', `/binaries/${binary.prn}/download_url`)).body.download_url;
    const ranged = await fetch(url, { headers: { range: 'bytes=0-' } });
    expect(ranged.status).toBe(416);
    expect(ranged.headers.get('content-range')).toBe('bytes */0');
    await ranged.arrayBuffer();
    const whole = await fetch(url);
    expect(whole.status).toBe(200);
    expect(whole.headers.get('content-length')).toBe('0');
  });
});

describe('deleting an artifact version (README claim)', () => {
  it('is refused while it has live binaries, and allowed once the last one is destroyed', async () => {
    const t = await start();
    const binary = await signableBinary(t, Buffer.from('live'), 'live');
    const version = binary.artifact_version_prn;
    const refused = await t.api('DELETE', `/artifact_versions/${version}`);
    expect(refused.status).toBe(422);
    expect(refused.body).toEqual({
      errors: { artifact_version: ['has binaries that are not destroyed; destroy or delete them first'] },
    });
    expect((await t.api('GET', `/artifact_versions/${version}`)).status).toBe(200);
    expect((await t.api('DELETE', `/binaries/${binary.prn}`)).status).toBe(204);
    expect((await t.api('GET', `/binaries/${binary.prn}`)).body.binary.state).toBe('destroyed');
    expect((await t.api('DELETE', `/artifact_versions/${version}`)).status).toBe(204);
    expect((await t.api('GET', `/artifact_versions/${version}`)).status).toBe(404);
  });
});
