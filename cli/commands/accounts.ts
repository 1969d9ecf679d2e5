import type { Command } from 'commander';
import pc from 'picocolors';
import { SxClient } from '../../sdk/client';
import { configPath, deleteConfigKey, readConfig, writeConfig } from '../config';
import { UsageError, type CliContext, type JsonOption } from '../context';
import { ago, details, duration, money, table } from '../format';
import { relativeTime } from '../options';

/** `sx signup`, `login`, `logout`, `balance`, `redeem` and `usage`: the account, its key, its money. */
export function registerAccountsCommands(program: Command, cli: CliContext): void {
  const { act, client, print, printJson, withJson } = cli;

  withJson(program.command('signup').description('create an account (with the free A100 trial) and save its API key'))
    .argument('<email>')
    .option('--no-save', 'only print the key; do not save it in the config file')
    .action(
      act(async (email: string, opts: JsonOption & { save: boolean }) => {
        const created = await client({ needsKey: false }).signup({ email });
        if (opts.save) await writeConfig({ ...(await readConfig()), api_key: created.api_key });
        if (opts.json) return printJson(created);
        print(
          details([
            ['account', created.account.id],
            ['email', created.account.email],
            ['api key', `${created.api_key}   ${pc.yellow('(shown once: keep it secret)')}`],
          ]),
        );
        print(opts.save ? pc.dim(`saved to ${configPath()}; try: sx balance`) : pc.dim('not saved: export SX_API_KEY=… or run sx login'));
      }),
    );

  withJson(program.command('login').description(`save an API key (in ${configPath()}, mode 0600)`))
    .option('--api-key <key>', 'the key (otherwise asked for, or read from stdin when piped)')
    .action(
      act(async (opts: JsonOption & { apiKey?: string }) => {
        const key = (opts.apiKey ?? (process.stdin.isTTY ? await (await import('@inquirer/password')).default({ message: 'API key (sk_…):', mask: true }) : await readStdin())).trim();
        if (!key) throw new UsageError('no API key given');
        // Checked before it is saved, so a typo is found now rather than at the next command.
        const account = await new SxClient({ baseUrl: cli.settings.apiUrl, apiKey: key, maxRetries: 1 }).account();
        await writeConfig({ ...(await readConfig()), api_key: key });
        if (opts.json) return printJson({ account: { id: account.id, email: account.email }, config: configPath() });
        print(`logged in as ${account.email} (${account.id}); key saved to ${configPath()}`);
        if (process.env.SX_API_KEY) print(pc.yellow('note: SX_API_KEY is set and takes precedence over the saved key'));
      }),
    );

  withJson(program.command('logout').description('forget the saved API key')).action(
    act(async (opts: JsonOption) => {
      const removed = await deleteConfigKey();
      if (opts.json) return printJson({ removed });
      print(removed ? `key removed from ${configPath()}` : 'no key was saved');
    }),
  );

  withJson(program.command('balance').alias('account').description('the trial, credits and held funds of your account')).action(
    act(async (opts: JsonOption) => {
      const account = await client().account();
      if (opts.json) return printJson(account);
      const { trial, held } = account;
      print(
        details([
          ['account', `${account.id} (${account.email})`],
          ['trial', `${trial.gpu_seconds_remaining} of ${trial.gpu_seconds_granted} A100 GPU·s left (${duration(trial.gpu_seconds_remaining)} on one GPU)`],
          ['credits', money({ amount: account.credits.reduce((n, c) => n + c.remaining.amount, 0), currency: 'CNY' })],
          ['held', `${held.gpu_seconds} GPU·s, ${money(held.amount)} (by jobs not yet finished)`],
        ]),
      );
      if (account.credits.length) {
        print('');
        print(table(['credit', 'source', 'remaining', 'expires'], account.credits.map((c) => [c.id, c.source, money(c.remaining), c.expires_at ? ago(c.expires_at) : 'never'])));
      }
    }),
  );

  withJson(program.command('redeem').description('redeem a compute voucher (算力券) code for credit'))
    .argument('<code>')
    .action(
      act(async (code: string, opts: JsonOption) => {
        const { credit } = await client().vouchers.redeem(code);
        if (opts.json) return printJson({ credit });
        print(`redeemed: ${money(credit.remaining)} of credit (${credit.id}), ${credit.expires_at ? `expires ${ago(credit.expires_at)}` : 'never expires'}`);
      }),
    );

  withJson(program.command('usage').description('what your jobs used and cost, one line per job and funding source'))
    .option('--from <time>', 'from (ISO 8601, or e.g. 7d, 24h for that long ago)', relativeTime)
    .option('--to <time>', 'until (ISO 8601, or e.g. 1h for that long ago)', relativeTime)
    .action(
      act(async (opts: JsonOption & { from?: string; to?: string }) => {
        const report = await client().usage({ from: opts.from, to: opts.to });
        if (opts.json) return printJson(report);
        if (!report.data.length) return print('no usage in this period');
        print(
          table(
            ['job', 'gpu', 'gpu·s', 'paid by', 'cost', 'period'],
            report.data.map((l) => [
              l.job_id,
              l.gpu_type,
              l.gpu_seconds,
              l.source === 'trial' ? 'trial' : (l.credit_id ?? 'credit'),
              money(l.cost),
              `${ago(l.period_start)} → ${ago(l.period_end)}`,
            ]),
          ),
        );
        const { total } = report;
        print(pc.bold(`total: ${total.gpu_seconds} GPU·s (${total.trial_gpu_seconds} from the trial), ${money(total.cost)}`));
      }),
    );
}

async function readStdin(): Promise<string> {
  let text = '';
  for await (const chunk of process.stdin) text += chunk;
  return text;
}
