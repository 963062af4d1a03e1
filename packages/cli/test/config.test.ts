import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultConfigDirectory, resolveConfig } from '../src/config.js';

function configDir(config: unknown, credentials?: unknown): string {
  const dir = mkdtempSync(join(tmpdir(), 'cli-config-'));
  writeFileSync(join(dir, 'config.json'), typeof config === 'string' ? config : JSON.stringify(config));
  if (credentials !== undefined) writeFileSync(join(dir, 'credentials.json'), JSON.stringify(credentials));
  return dir;
}

const CONFIG = {
  version: 2,
  profiles: {
    prod: { base_url: 'https://prod.example', api_version: 2 },
    dev: { base_url: 'https://dev.example' },
  },
  signing_key_pairs: {
    release: { signing_key_prn: 'prn:1:o:signing_key:k', signing_key_private_path: '~/k.pem' },
  },
};

describe('defaultConfigDirectory', () => {
  it('is the OS config dir of "peridio", as Peridio’s CLI (directories::ProjectDirs) has it', () => {
    expect(defaultConfigDirectory({ HOME: '/h' }, 'linux')).toBe('/h/.config/peridio');
    expect(defaultConfigDirectory({ HOME: '/h', XDG_CONFIG_HOME: '/x' }, 'linux')).toBe('/x/peridio');
    expect(defaultConfigDirectory({ HOME: '/h' }, 'darwin')).toBe('/h/Library/Application Support/peridio');
    expect(defaultConfigDirectory({ HOME: '/h', APPDATA: 'C:/AppData' }, 'win32')).toBe(
      join('C:/AppData', 'peridio', 'config'),
    );
  });
});

describe('resolveConfig', () => {
  it('applies a named profile: base_url and api_version from config.json, api_key from credentials.json', () => {
    const dir = configDir(CONFIG, { prod: { api_key: 'k-prod' } });
    const config = resolveConfig({ profile: 'prod', configDirectory: dir }, {});
    expect(config).toMatchObject({ apiKey: 'k-prod', baseUrl: 'https://prod.example', apiVersion: 2 });
    expect(config.apiKeySource).toMatch(/profile 'prod'/);
    expect(config.signingKeyPairs.release?.signing_key_prn).toBe('prn:1:o:signing_key:k');
  });

  it('uses no profile unless one is named, but still reads signing_key_pairs', () => {
    const dir = configDir(CONFIG, { prod: { api_key: 'k-prod' } });
    const config = resolveConfig({ configDirectory: dir }, {});
    expect(config.apiKey).toBeUndefined();
    expect(config.baseUrl).toBeUndefined();
    expect(Object.keys(config.signingKeyPairs)).toEqual(['release']);
  });

  it('flags beat env vars, env vars beat the profile', () => {
    const dir = configDir(CONFIG, { prod: { api_key: 'k-prod' } });
    const env = {
      PERIDIO_API_KEY: 'k-env',
      PERIDIO_BASE_URL: 'https://env.example',
      PERIDIO_PROFILE: 'prod',
    };
    expect(resolveConfig({ configDirectory: dir }, env)).toMatchObject({
      apiKey: 'k-env',
      apiKeySource: 'PERIDIO_API_KEY',
      baseUrl: 'https://env.example',
      profile: 'prod',
    });
    expect(
      resolveConfig(
        { configDirectory: dir, apiKey: 'k-flag', baseUrl: 'https://flag.example', profile: 'dev' },
        env,
      ),
    ).toMatchObject({
      apiKey: 'k-flag',
      apiKeySource: '--api-key',
      baseUrl: 'https://flag.example',
      profile: 'dev',
    });
  });

  it('PERIDIO_CONFIG_DIRECTORY names the directory', () => {
    const dir = configDir(CONFIG, { dev: { api_key: 'k-dev' } });
    expect(resolveConfig({ profile: 'dev' }, { PERIDIO_CONFIG_DIRECTORY: dir }).apiKey).toBe('k-dev');
  });

  it('refuses what cannot work, naming the flag or file', () => {
    const dir = configDir(CONFIG);
    expect(() => resolveConfig({ profile: 'nope', configDirectory: dir }, {})).toThrow(
      /'profile'.*'nope' is not in .*config\.json \(profiles: prod, dev\)/,
    );
    expect(() => resolveConfig({ configDirectory: join(dir, 'missing') }, {})).toThrow(/'config-directory'/);
    expect(() => resolveConfig({ configDirectory: configDir({ prod: {} }) }, {})).toThrow(
      /peridio config upgrade/,
    );
    const empty = mkdtempSync(join(tmpdir(), 'cli-empty-'));
    expect(() => resolveConfig({ profile: 'prod', configDirectory: empty }, {})).toThrow(/no config\.json/);
  });

  it('a broken credentials.json is reported without quoting it (it holds API keys)', () => {
    const dir = configDir(CONFIG);
    writeFileSync(join(dir, 'credentials.json'), '{"prod": {"api_key": "k-secret-123"');
    let message = '';
    try {
      resolveConfig({ profile: 'prod', configDirectory: dir }, {});
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toMatch(/credentials\.json is not valid JSON/);
    expect(message).not.toContain('k-secret-123');
  });
});
