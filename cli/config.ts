import { chmod, mkdir, readFile, rm, writeFile, rename } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';

/** What `sx login` keeps. */
export interface SxConfig {
  api_key?: string;
  api_url?: string;
}

export const DEFAULT_API_URL = 'http://127.0.0.1:3000';

/** `$XDG_CONFIG_HOME/sx/config.json`, else `~/.config/sx/config.json` (the XDG default, also on macOS, as gh and others do). */
export function configPath(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_CONFIG_HOME && env.XDG_CONFIG_HOME.startsWith('/') ? env.XDG_CONFIG_HOME : join(homedir(), '.config');
  return join(base, 'sx', 'config.json');
}

/**
 * Reads the config file; a missing file is an empty config.
 * @throws Error naming the file when it exists but is not JSON.
 */
export async function readConfig(path = configPath()): Promise<SxConfig> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw error;
  }
  try {
    return JSON.parse(text) as SxConfig;
  } catch {
    throw new Error(`${path} is not valid JSON: fix it or delete it and run sx login again`);
  }
}

/**
 * Writes the config with mode 0600 (it holds an API key) in a 0700 directory, atomically: a
 * temporary file created 0600 from the start, then renamed, so the key is never readable by others
 * even for a moment and a crash never leaves half a file.
 */
export async function writeConfig(config: SxConfig, path = configPath()): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, JSON.stringify(config, null, 2) + '\n', { mode: 0o600 });
  // The mode above is masked by the umask; chmod is not.
  await chmod(tmp, 0o600);
  await rename(tmp, path);
}

export async function deleteConfigKey(path = configPath()): Promise<boolean> {
  const config = await readConfig(path);
  if (!config.api_key) return false;
  delete config.api_key;
  if (Object.keys(config).length === 0) await rm(path, { force: true });
  else await writeConfig(config, path);
  return true;
}

/** Where the API is and which key to use: the environment (`SX_API_URL`, `SX_API_KEY`) wins over the config file. */
export async function resolveSettings(env: NodeJS.ProcessEnv = process.env): Promise<{ apiUrl: string; apiKey?: string; keySource: string }> {
  const config = await readConfig(configPath(env));
  const apiUrl = env.SX_API_URL || config.api_url || DEFAULT_API_URL;
  if (env.SX_API_KEY) return { apiUrl, apiKey: env.SX_API_KEY, keySource: 'SX_API_KEY' };
  if (config.api_key) return { apiUrl, apiKey: config.api_key, keySource: configPath(env) };
  return { apiUrl, keySource: 'none' };
}
