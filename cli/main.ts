/**
 * `sx`: the command-line client of suanxiang-cloud, built on the SDK (sdk/). Argument parsing with
 * commander; tables with cli-table3; colours with picocolors (which honours NO_COLOR and
 * FORCE_COLOR); the live status line of `sx run` with log-update; the Ctrl-C question with
 * @inquirer/confirm; the hidden key prompt of `sx login` with @inquirer/password.
 *
 * The commands live in `cli/commands/<topic>.ts`, each registered here with the shared context
 * (`cli/context.ts`); this file only builds the program and turns any failure into one line.
 */
import { Command, CommanderError } from 'commander';
import pc from 'picocolors';
import { SxApiError, SxConnectionError, SxResponseError } from '../sdk/errors';
import { registerAccountsCommands } from './commands/accounts';
import { registerAdminCommands } from './commands/admin';
import { registerApiKeysCommands } from './commands/api-keys';
import { registerJobsCommands } from './commands/jobs';
import { registerRunCommands } from './commands/run';
import { registerWebhooksCommands } from './commands/webhooks';
import { registerFilesCommands } from './commands/files';
import { configPath, resolveSettings } from './config';
import { createCliContext, UsageError } from './context';
import { EXIT } from './follow';

/** Runs `sx` with `argv` (as process.argv: node, script, args…) and resolves with the exit code. */
export async function main(argv: string[]): Promise<number> {
  const settings = await resolveSettings().catch((error: Error) => error);
  if (settings instanceof Error) {
    process.stderr.write(`sx: error: ${settings.message}\n`);
    return 1;
  }
  const { cli, exitCode } = createCliContext(settings);

  const program = new Command('sx')
    .description('suanxiang-cloud (算想云): run training jobs on A100s, paid per GPU-second.')
    .version('0.1.0')
    .enablePositionalOptions()
    // Set before the subcommands are added, which copy these settings: errors come back to us as exceptions.
    .exitOverride()
    .showHelpAfterError('(add --help for usage)')
    .addHelpText(
      'after',
      `
Environment: SX_API_URL (default ${settings.apiUrl === 'http://127.0.0.1:3000' ? 'http://127.0.0.1:3000, the local stack' : settings.apiUrl}),
SX_API_KEY (overrides the key \`sx login\` saved in ${configPath()}), NO_COLOR.`,
    );

  // In this order in `sx --help`.
  registerAccountsCommands(program, cli);
  registerRunCommands(program, cli);
  registerJobsCommands(program, cli);
  registerFilesCommands(program, cli);
  registerWebhooksCommands(program, cli);
  registerApiKeysCommands(program, cli);
  registerAdminCommands(program, cli);

  try {
    await program.parseAsync(argv);
    return exitCode();
  } catch (error) {
    return reportError(error, argv);
  }
}

/** One readable line on stderr for any failure, and its exit code (2 for usage mistakes, else 1). */
function reportError(error: unknown, argv: string[]): number {
  if (error instanceof CommanderError) {
    // Help and --version "fail" with exit code 0; commander has already printed its message.
    return error.exitCode === 0 ? 0 : EXIT.usage;
  }
  const line = (text: string) => process.stderr.write(`${pc.red('sx: error:')} ${text}\n`);
  if (error instanceof SxApiError) {
    if (error.isMissingRoute) line(`this server does not support ${error.request} yet (${error.type} ${error.status})`);
    else line(error.message);
    if (error.type === 'unauthorized') {
      const admin = argv.slice(2).includes('admin');
      process.stderr.write(pc.dim(admin ? 'sx: check the admin key: SX_ADMIN_KEY\n' : 'sx: check the key: sx login, or SX_API_KEY\n'));
    }
    return 1;
  }
  if (error instanceof SxConnectionError) {
    line(`${error.message}${/127\.0\.0\.1|localhost/.test(error.url) ? ' (is the local stack running? npm start)' : ''}`);
    return 1;
  }
  if (error instanceof UsageError) {
    line(error.message);
    return EXIT.usage;
  }
  if (error instanceof SxResponseError) {
    line(`${error.message} (is SX_API_URL an sx API of a matching version?)`);
    return 1;
  }
  line(error instanceof Error ? error.message : String(error));
  return 1;
}
