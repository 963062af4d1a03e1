/**
 * Peridio CLI's configuration (config v2), read from the same place with the same precedence, so a
 * Peridio CLI user's setup works unchanged:
 * - the directory is `--config-directory` / PERIDIO_CONFIG_DIRECTORY, else the OS config dir of
 *   "peridio" (Linux: $XDG_CONFIG_HOME/peridio or ~/.config/peridio; macOS: ~/Library/Application
 *   Support/peridio; Windows: %APPDATA%\peridio\config);
 * - `config.json` is `{ version: 2, profiles: { NAME: { base_url, api_version, ca_path } },
 *   signing_key_pairs: { NAME: { signing_key_prn, signing_key_private_path } } }`;
 * - `credentials.json` is `{ NAME: { api_key } }`, merged into the profile of the same name;
 * - a profile applies only when named (`--profile` / PERIDIO_PROFILE); a flag or its env var wins over it.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { InputError, UserError } from '@peridio-actions/core';

interface Profile {
  api_key?: string | null;
  base_url?: string | null;
  ca_path?: string | null;
  api_version?: number | null;
}

interface SigningKeyPair {
  signing_key_prn: string;
  signing_key_private_path: string;
}

interface ConfigFile {
  version: number;
  profiles: Record<string, Profile>;
  signing_key_pairs?: Record<string, SigningKeyPair> | null;
}

export interface GlobalFlags {
  apiKey?: string;
  baseUrl?: string;
  profile?: string;
  configDirectory?: string;
}

export interface ResolvedConfig {
  apiKey?: string;
  /** Where the API key came from, for `--verbose` and for errors (never the key itself). */
  apiKeySource?: string;
  baseUrl?: string;
  apiVersion?: number;
  profile?: string;
  /** The profile's ca_path, which this CLI does not read (Node takes NODE_EXTRA_CA_CERTS). */
  caPath?: string;
  configDirectory: string;
  /** config.json was found. */
  configFound: boolean;
  signingKeyPairs: Record<string, SigningKeyPair>;
}

type Env = Record<string, string | undefined>;

export function defaultConfigDirectory(env: Env, platform: NodeJS.Platform = process.platform): string {
  const home = env.HOME || homedir();
  if (platform === 'darwin') return join(home, 'Library', 'Application Support', 'peridio');
  if (platform === 'win32') return join(env.APPDATA || join(home, 'AppData', 'Roaming'), 'peridio', 'config');
  return join(env.XDG_CONFIG_HOME || join(home, '.config'), 'peridio');
}

/** Flags first, then their environment variables, then the named profile. */
export function resolveConfig(flags: GlobalFlags, env: Env): ResolvedConfig {
  const explicitDir = flags.configDirectory ?? nonEmpty(env.PERIDIO_CONFIG_DIRECTORY);
  const configDirectory = explicitDir ?? defaultConfigDirectory(env);
  if (explicitDir !== undefined && !isDirectory(explicitDir)) {
    throw new InputError('config-directory', `${explicitDir} is not a directory`);
  }
  const profileName = flags.profile ?? nonEmpty(env.PERIDIO_PROFILE);
  const file = readConfigFile(configDirectory);

  let profile: Profile = {};
  if (profileName !== undefined) {
    if (!file) {
      throw new InputError(
        'profile',
        `'${profileName}' was asked for, but there is no config.json in ${configDirectory}`,
      );
    }
    const found = file.profiles[profileName];
    if (!found) {
      const known = Object.keys(file.profiles);
      throw new InputError(
        'profile',
        `'${profileName}' is not in ${join(configDirectory, 'config.json')}` +
          (known.length ? ` (profiles: ${known.join(', ')})` : ' (it has no profiles)'),
      );
    }
    profile = { ...found, api_key: readCredentials(configDirectory)[profileName]?.api_key ?? null };
  }

  const fromFlag = flags.apiKey !== undefined ? '--api-key' : undefined;
  const fromEnv = nonEmpty(env.PERIDIO_API_KEY) !== undefined ? 'PERIDIO_API_KEY' : undefined;
  const apiKey = flags.apiKey ?? nonEmpty(env.PERIDIO_API_KEY) ?? profile.api_key ?? undefined;
  const apiKeySource =
    fromFlag ?? fromEnv ?? (profile.api_key ? `profile '${profileName}' (credentials.json)` : undefined);
  const apiVersionText = nonEmpty(env.PERIDIO_API_VERSION);
  return {
    apiKey,
    apiKeySource,
    baseUrl: flags.baseUrl ?? nonEmpty(env.PERIDIO_BASE_URL) ?? profile.base_url ?? undefined,
    apiVersion: apiVersionText !== undefined ? Number(apiVersionText) : (profile.api_version ?? undefined),
    profile: profileName,
    caPath: profile.ca_path ?? undefined,
    configDirectory,
    configFound: file !== undefined,
    signingKeyPairs: file?.signing_key_pairs ?? {},
  };
}

function readConfigFile(dir: string): ConfigFile | undefined {
  const path = join(dir, 'config.json');
  if (!existsSync(path)) return undefined;
  const parsed = readJson(path);
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new UserError(`${path} must hold a JSON object`);
  }
  const config = parsed as Partial<ConfigFile>;
  if (config.version !== 2 || typeof config.profiles !== 'object' || config.profiles === null) {
    throw new UserError(
      `${path} is not a version 2 config (a version 1 file maps profile names at the top level); ` +
        `upgrade it with Peridio's CLI: peridio config upgrade`,
    );
  }
  return {
    version: 2,
    profiles: config.profiles,
    signing_key_pairs: config.signing_key_pairs ?? {},
  };
}

function readCredentials(dir: string): Record<string, { api_key?: string | null }> {
  const path = join(dir, 'credentials.json');
  if (!existsSync(path)) return {};
  const parsed = readJson(path);
  if (typeof parsed !== 'object' || parsed === null) throw new UserError(`${path} must hold a JSON object`);
  return parsed as Record<string, { api_key?: string | null }>;
}

function readJson(path: string): unknown {
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    // The message of a JSON error quotes file content, and credentials.json holds API keys.
    const reason =
      err instanceof SyntaxError ? 'is not valid JSON' : `cannot be read (${(err as Error).message})`;
    throw new UserError(`${path} ${reason}`);
  }
}

/** `~/...` as Peridio's CLI expands it in signing_key_private_path. */
export function expandHome(path: string, env: Env): string {
  if (path === '~' || path.startsWith('~/')) return join(env.HOME || homedir(), path.slice(1));
  return path;
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}
