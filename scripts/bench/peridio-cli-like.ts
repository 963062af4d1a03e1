/**
 * A stand-in for Peridio's own CLI uploading a binary, for the WAN comparison: it reads the whole file
 * into memory, hashes it, creates the binary, then PUTs 5 MiB parts (the protocol's minimum), 2 × cores
 * at a time, straight from that buffer, and waits for the registry's check (`signable`). It does not
 * sign, so it does a little less than the publish action. Run as its own process:
 *   tsx scripts/bench/peridio-cli-like.ts BASE_URL FILE TARGET   (PERIDIO_API_KEY in the environment)
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { cpus } from 'node:os';

const [baseUrl, filePath, target] = process.argv.slice(2) as [string, string, string];
const apiKey = process.env.PERIDIO_API_KEY ?? '';
const PART = 5 * 1024 * 1024;
const CONCURRENCY = 2 * cpus().length;

async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  const response = await fetch(`${baseUrl}${path}`, {
    method,
    headers: {
      authorization: `Token ${apiKey}`,
      'x-api-version': '2',
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${path}: HTTP ${response.status} ${text.slice(0, 300)}`);
  return JSON.parse(text) as T;
}

const bytes = await readFile(filePath);
const sha = (b: Uint8Array): Buffer => createHash('sha256').update(b).digest();
const hash = sha(bytes).toString('hex');
const { artifact } = await api<{ artifact: { prn: string } }>('POST', '/artifacts', {
  name: `cli-${target}`,
});
const { artifact_version: version } = await api<{ artifact_version: { prn: string } }>(
  'POST',
  '/artifact_versions',
  { artifact_prn: artifact.prn, version: '1.0.0' },
);
const { binary } = await api<{ binary: { prn: string } }>('POST', '/binaries', {
  artifact_version_prn: version.prn,
  target,
  hash,
  size: bytes.length,
});
const count = Math.max(1, Math.ceil(bytes.length / PART));
let next = 0;
const worker = async (): Promise<void> => {
  while (next < count) {
    const index = ++next;
    const part = bytes.subarray((index - 1) * PART, Math.min(bytes.length, index * PART));
    const digest = sha(part);
    const { binary_part } = await api<{ binary_part: { presigned_upload_url: string } }>(
      'PUT',
      `/binaries/${binary.prn}/parts/${index}`,
      {
        binary_prn: binary.prn,
        index,
        expected_binary_size: bytes.length,
        hash: digest.toString('hex'),
        size: part.length,
      },
    );
    const put = await fetch(binary_part.presigned_upload_url, {
      method: 'PUT',
      headers: {
        'content-type': 'application/octet-stream',
        'x-amz-checksum-sha256': digest.toString('base64'),
      },
      body: part,
    });
    await put.arrayBuffer();
    if (!put.ok) throw new Error(`part ${index}: HTTP ${put.status}`);
  }
};
await Promise.all(Array.from({ length: Math.min(CONCURRENCY, count) }, worker));
for (const state of ['hashable', 'hashing']) {
  await api('PATCH', `/binaries/${binary.prn}`, { state });
}
for (let i = 0; i < 6000; i++) {
  const { binary: now } = await api<{ binary: { state: string } }>('GET', `/binaries/${binary.prn}`);
  if (now.state === 'signable') process.exit(0);
  if (now.state !== 'hashing') throw new Error(`binary went to ${now.state}`);
  await new Promise((resolve) => setTimeout(resolve, 50));
}
throw new Error('the registry did not finish its check');
