import {
  ApiError,
  ConflictError,
  InputError,
  NetworkError,
  PeridioError,
  TimeoutError,
} from '@peridio-actions/core';
import { describe, expect, it } from 'vitest';
import { sha256Flag } from '../src/commands/binaries.js';
import { signatureHex } from '../src/commands/binary-signatures.js';
import { exitCodeOf } from '../src/exit.js';
import { cliLogger, progressBar } from '../src/log.js';
import { list, one, render } from '../src/output.js';
import { UsageError } from '../src/spec.js';

describe('render', () => {
  const binary = { prn: 'prn:1:o:binary:b', target: 'arm64', state: 'signed', size: 10, hash: null };
  it('json is the resource under its key on one line; a list adds next_page', () => {
    expect(render(one('binary', binary, ['prn']), 'json')).toBe(`${JSON.stringify({ binary })}\n`);
    expect(render(list('binaries', [binary], 'c2', ['prn']), 'json')).toBe(
      `${JSON.stringify({ binaries: [binary], next_page: 'c2' })}\n`,
    );
  });
  it('prn is only the PRN(s), one a line; nothing for an empty list', () => {
    expect(render(one('binary', binary, ['prn']), 'prn')).toBe('prn:1:o:binary:b\n');
    expect(render(list('binaries', [binary, { ...binary, prn: 'p2' }], null, ['prn']), 'prn')).toBe(
      'prn:1:o:binary:b\np2\n',
    );
    expect(render(list('binaries', [], null, ['prn']), 'prn')).toBe('');
  });
  it('prn of a record without a prn prints the PRN it names (an override’s device entries)', () => {
    const entry = { device_prn: 'prn:1:o:device:d', inserted_at: '2026-01-01T00:00:00Z' };
    expect(render(one('device', entry, ['device_prn'], 'device_prn'), 'prn')).toBe('prn:1:o:device:d\n');
    expect(render(list('devices', [entry, entry], null, ['device_prn'], 'device_prn'), 'prn')).toBe(
      'prn:1:o:device:d\nprn:1:o:device:d\n',
    );
    expect(render(one('device', entry, ['device_prn'], 'device_prn'), 'json')).toBe(
      `${JSON.stringify({ device: entry })}\n`,
    );
  });
  it('table aligns the columns under a header', () => {
    expect(render(one('binary', binary, ['prn', 'state', 'hash']), 'table')).toBe(
      'PRN               STATE   HASH\nprn:1:o:binary:b  signed\n',
    );
  });
});

describe('flag values', () => {
  it('sha256Flag takes hex with or without sha256: and lowercases it', () => {
    const hex = 'AB'.repeat(32);
    expect(sha256Flag(`sha256:${hex}`)).toBe(hex.toLowerCase());
    expect(sha256Flag(hex)).toBe(hex.toLowerCase());
    expect(() => sha256Flag('sha256:abc')).toThrow(/'hash'.*must be a SHA-256/);
  });
  it('signatureHex takes hex or base64 of 64 bytes and gives uppercase hex', () => {
    const bytes = Buffer.alloc(64, 7);
    expect(signatureHex(bytes.toString('hex'))).toBe(bytes.toString('hex').toUpperCase());
    expect(signatureHex(bytes.toString('base64'))).toBe(bytes.toString('hex').toUpperCase());
    expect(() => signatureHex(Buffer.alloc(32).toString('base64'))).toThrow(/'signature'/);
  });
});

describe('exitCodeOf', () => {
  it('maps usage to 2, the user’s mistakes to 1, remote and network failures to 3', () => {
    expect(exitCodeOf(new UsageError('x'))).toBe(2);
    expect(exitCodeOf(new InputError('hash', 'bad'))).toBe(1);
    expect(exitCodeOf(new ConflictError('other content'))).toBe(1);
    expect(exitCodeOf(new ApiError(404, 'GET', '/x', 'not found'))).toBe(1);
    expect(exitCodeOf(new ApiError(503, 'GET', '/x', 'down'))).toBe(3);
    expect(exitCodeOf(new ApiError(429, 'GET', '/x', 'slow down'))).toBe(3);
    expect(exitCodeOf(new NetworkError('reset', 'ECONNRESET'))).toBe(3);
    expect(exitCodeOf(new TimeoutError('hashing took too long'))).toBe(3);
    expect(exitCodeOf(new PeridioError('upload incomplete'))).toBe(3);
    expect(exitCodeOf(new TypeError('a bug'))).toBe(1);
  });
});

describe('logger and progress bar', () => {
  it('masks secrets in every line', () => {
    let written = '';
    const logger = cliLogger({ write: (s: string) => ((written += s), true) } as never, { verbose: true });
    logger.addSecrets(['prk_topsecret']);
    logger.info('key prk_topsecret here');
    logger.debug('and prk_topsecret there');
    expect(written).toBe('key *** here\ndebug: and *** there\n');
  });
  it('draws bytes, rate and time left', () => {
    const bar = progressBar(
      {
        bytesSent: 50_000_000,
        bytesToSend: 100_000_000,
        partsDone: 3,
        partsToSend: 6,
        bytesPerSecond: 10_000_000,
      },
      5000,
      100,
    );
    expect(bar).toMatch(/^\[#{15}-{15}\] {2}50% {2}47\.7 MiB \/ 95\.4 MiB {2}9\.5 MiB\/s {2}5\.0 s left$/);
  });
  it('redraws the bar after a log line, on a terminal', () => {
    let written = '';
    const logger = cliLogger({ write: (s: string) => ((written += s), true), columns: 80 } as never, {
      verbose: false,
      now: () => 1000,
    });
    logger.progress({ bytesSent: 1, bytesToSend: 2, partsDone: 0, partsToSend: 1, bytesPerSecond: 0 });
    logger.info('hello');
    logger.endProgress();
    // eslint-disable-next-line no-control-regex -- the bar is redrawn with terminal escapes
    expect(written).toMatch(/^\r\x1b\[2K\[#+-+\] {2}50%.*\r\x1b\[2Khello\n\[#+-+\] {2}50%.*\n$/s);
  });
});
