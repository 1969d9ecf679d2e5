import type { Command } from 'commander';
import pc from 'picocolors';
import { SxClient } from '../sdk/client';

/** A usage mistake: reported like commander's own, exit code 2. */
export class UsageError extends Error {}

/** The `--json` flag every command that prints something has ({@link CliContext.withJson}). */
export interface JsonOption {
  json?: boolean;
}

/** Where the API is and which key to use, as `resolveSettings` found them. */
export interface CliSettings {
  apiUrl: string;
  apiKey?: string;
}

/**
 * What every command module receives: the API client factory, output helpers and the action
 * wrapper. A module in `cli/commands/` exports `register<Topic>Commands(program, cli)` and reaches
 * the API, the terminal and the exit code only through this.
 */
export interface CliContext {
  settings: CliSettings;
  /**
   * An SDK client for the configured API, retrying as `SX_MAX_RETRIES` says (default 3) and saying so on stderr.
   * @throws UsageError when a key is needed (the default) and none is configured.
   */
  client(options?: { needsKey?: boolean; apiUrl?: string; apiKey?: string }): SxClient;
  /** Writes a line (adding the newline if missing) to stdout. */
  print(text: string): void;
  /** Writes a value as indented JSON to stdout. */
  printJson(value: unknown): void;
  /** Wraps a command's action: the number it resolves with becomes the exit code (none is 0); a throw goes to the error report. */
  act<A extends unknown[]>(fn: (...args: A) => Promise<number | void>): (...args: A) => Promise<void>;
  /** Adds the `--json` option (print the API response as JSON, for scripts). */
  withJson(command: Command): Command;
}

/** The context for one run of `sx`, and the exit code its action set. */
export function createCliContext(settings: CliSettings): { cli: CliContext; exitCode: () => number } {
  let code = 0;
  const print = (text: string): void => void process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
  const cli: CliContext = {
    settings,
    client(options = {}) {
      const apiKey = options.apiKey ?? settings.apiKey;
      if (options.needsKey !== false && !apiKey) {
        throw new UsageError('not logged in: run `sx login` (or `sx signup EMAIL`), or set SX_API_KEY');
      }
      return new SxClient({
        baseUrl: options.apiUrl ?? settings.apiUrl,
        apiKey,
        maxRetries: intFromEnv('SX_MAX_RETRIES', 3),
        onRetry: ({ request, attempt, delayMs, reason }) =>
          process.stderr.write(pc.dim(`sx: ${request} failed (${reason}); retrying in ${(delayMs / 1000).toFixed(1)} s (retry ${attempt})\n`)),
      });
    },
    print,
    printJson: (value) => print(JSON.stringify(value, null, 2)),
    act:
      (fn) =>
      async (...args) => {
        code = (await fn(...args)) ?? 0;
      },
    withJson: (command) => command.option('--json', 'print the API response as JSON (for scripts)'),
  };
  return { cli, exitCode: () => code };
}

function intFromEnv(name: string, fallback: number): number {
  const n = Number(process.env[name]);
  return process.env[name] && Number.isInteger(n) && n >= 0 ? n : fallback;
}
