/**
 * `sx`: the command-line client of suanxiang-cloud, built on the SDK (sdk/). Argument parsing with
 * commander; tables with cli-table3; colours with picocolors (which honours NO_COLOR and
 * FORCE_COLOR); the live status line of `sx run` with log-update; the Ctrl-C question with
 * @inquirer/confirm; the hidden key prompt of `sx login` with @inquirer/password.
 */
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import pc from 'picocolors';
import { SxApiError, SxConnectionError, SxResponseError } from '../sdk/errors';
import { SxClient, newIdempotencyKey, type Job, type JobStatusName, type WebhookDeliveryStatusName, type WebhookEndpoint } from '../sdk/client';
import { WebhookDeliveryStatus, WebhookEventType, type CreateWebhookEndpointRequest } from '../events/api/webhooks';
import { configPath, deleteConfigKey, readConfig, resolveSettings, writeConfig } from './config';
import { EXIT, followJob } from './follow';
import { ago, details, duration, money, shellJoin, status, table, usage } from './format';

/** A usage mistake: reported like commander's own, exit code 2. */
class UsageError extends Error {}

interface Common {
  json?: boolean;
}

/** Runs `sx` with `argv` (as process.argv: node, script, args…) and resolves with the exit code. */
export async function main(argv: string[]): Promise<number> {
  let code = 0;
  const settings = await resolveSettings().catch((error: Error) => error);
  if (settings instanceof Error) {
    process.stderr.write(`sx: error: ${settings.message}\n`);
    return 1;
  }

  const client = (options: { needsKey?: boolean; apiUrl?: string } = {}) => {
    const apiKey = settings.apiKey;
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
  };
  const print = (text: string): void => void process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
  const printJson = (value: unknown) => print(JSON.stringify(value, null, 2));
  /** Wraps an action: its result becomes the exit code. */
  const act =
    <A extends unknown[]>(fn: (...args: A) => Promise<number | void>) =>
    async (...args: A) => {
      code = (await fn(...args)) ?? 0;
    };
  const withJson = (command: Command) => command.option('--json', 'print the API response as JSON (for scripts)');

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

  // ---------------------------------------------------------------- accounts
  withJson(program.command('signup').description('create an account (with the free A100 trial) and save its API key'))
    .argument('<email>')
    .option('--no-save', 'only print the key; do not save it in the config file')
    .action(
      act(async (email: string, opts: Common & { save: boolean }) => {
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
      act(async (opts: Common & { apiKey?: string }) => {
        const key = (opts.apiKey ?? (process.stdin.isTTY ? await (await import('@inquirer/password')).default({ message: 'API key (sk_…):', mask: true }) : await readStdin())).trim();
        if (!key) throw new UsageError('no API key given');
        // Checked before it is saved, so a typo is found now rather than at the next command.
        const account = await new SxClient({ baseUrl: settings.apiUrl, apiKey: key, maxRetries: 1 }).account();
        await writeConfig({ ...(await readConfig()), api_key: key });
        if (opts.json) return printJson({ account: { id: account.id, email: account.email }, config: configPath() });
        print(`logged in as ${account.email} (${account.id}); key saved to ${configPath()}`);
        if (process.env.SX_API_KEY) print(pc.yellow('note: SX_API_KEY is set and takes precedence over the saved key'));
      }),
    );

  withJson(program.command('logout').description('forget the saved API key')).action(
    act(async (opts: Common) => {
      const removed = await deleteConfigKey();
      if (opts.json) return printJson({ removed });
      print(removed ? `key removed from ${configPath()}` : 'no key was saved');
    }),
  );

  withJson(program.command('balance').alias('account').description('the trial, credits and held funds of your account')).action(
    act(async (opts: Common) => {
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
      act(async (code: string, opts: Common) => {
        const { credit } = await client().vouchers.redeem(code);
        if (opts.json) return printJson({ credit });
        print(`redeemed: ${money(credit.remaining)} of credit (${credit.id}), ${credit.expires_at ? `expires ${ago(credit.expires_at)}` : 'never expires'}`);
      }),
    );

  withJson(program.command('usage').description('what your jobs used and cost, one line per job and funding source'))
    .option('--from <time>', 'from (ISO 8601, or e.g. 7d, 24h for that long ago)', relativeTime)
    .option('--to <time>', 'until (ISO 8601, or e.g. 1h for that long ago)', relativeTime)
    .action(
      act(async (opts: Common & { from?: string; to?: string }) => {
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

  // ---------------------------------------------------------------- run
  withJson(
    program
      .command('run')
      .description('submit a job and follow it: live status, its log, and an exit code that mirrors how it ended')
      .usage('[options] -- <command...>')
      .passThroughOptions(),
  )
    .argument('<command...>', 'the command the job runs (put it after --)')
    .requiredOption('--image <image>', 'container image, registry/repo:tag (locally recorded, not pulled)')
    .addOption(new Option('--gpus <n>', 'GPUs: 1 to 8, or a multiple of 8 up to 64 (multi-node)').default(1).argParser(positiveInt))
    .option('--name <name>', 'a name to find it by')
    .option('-e, --env <KEY=value>', 'an environment variable for the job (repeatable)', collectEnv, {} as Record<string, string>)
    .option('--max-runtime <duration>', 'stop it after this long: seconds, or 90m, 2h, 3d (default 24h)', durationSeconds)
    .option('-d, --detach', 'return at once with the job id instead of following it')
    .option('--idempotency-key <key>', 'retrying with the same key never starts a second job (default: a new random key)')
    .option('--cancel-on-interrupt', 'on Ctrl-C or SIGTERM cancel the job without asking (for CI)')
    .addOption(new Option('--interval <ms>', 'poll interval').default(1000).argParser(positiveInt).hideHelp())
    .addHelpText(
      'after',
      `
Examples:
  sx run --gpus 4 --image ghcr.io/you/train:1 -- python train.py --lr 3e-4
  sx run --image local/node:20 -- node "$PWD/examples/char-lm/train.mjs"

Exit code: 0 if the job succeeded; the job's own exit code if it exited non-zero; 1 for any other
failure (insufficient_balance, max_runtime_exceeded, infrastructure); 130 if it was cancelled.
Ctrl-C asks whether to cancel the job (No leaves it running). Without a terminal the first Ctrl-C
only says how to cancel and a second one cancels; SIGTERM leaves the job running (exit 143),
unless --cancel-on-interrupt.`,
    )
    .action(
      act(async (command: string[], opts: Common & RunOptions) => {
        const api = client();
        const idempotencyKey = opts.idempotencyKey ?? newIdempotencyKey();
        const job = await api.jobs.create(
          {
            name: opts.name,
            image: opts.image,
            command,
            env: Object.keys(opts.env).length ? opts.env : undefined,
            gpu_count: opts.gpus,
            max_runtime_seconds: opts.maxRuntime,
          },
          { idempotencyKey },
        );
        if (opts.detach) {
          if (opts.json) printJson(job);
          else print(job.id);
          return EXIT.detached;
        }
        if (!opts.json) {
          process.stderr.write(pc.dim(`sx: submitted ${job.id}: ${shellJoin(job.command)} on ${job.gpu_count}× ${job.gpu_type} (Ctrl-C to cancel or detach)\n`));
        }
        return followJob(api, job, {
          logs: true,
          // A terminal without a size (some CI pseudo-terminals) cannot hold a live line.
          live: Boolean(process.stdout.isTTY) && (process.stdout.rows ?? 0) > 0 && !opts.json,
          json: Boolean(opts.json),
          cancelOnInterrupt: Boolean(opts.cancelOnInterrupt),
          interactive: Boolean(process.stdin.isTTY && process.stdout.isTTY),
          intervalMs: opts.interval,
        });
      }),
    );

  // ---------------------------------------------------------------- jobs
  const jobs = program.command('jobs').description('list, inspect, cancel and follow jobs');
  withJson(jobs.command('ls').alias('list').description('your jobs, newest first'))
    .addOption(new Option('--status <status>', 'only jobs in this status').choices(['queued', 'starting', 'running', 'succeeded', 'failed', 'cancelled']))
    .addOption(new Option('-n, --limit <n>', 'how many').default(20).argParser(positiveInt))
    .option('-a, --all', 'every job (follows the pages)')
    .action(
      act(async (opts: Common & { status?: JobStatusName; limit: number; all?: boolean }) => {
        const api = client();
        let list: Job[] = [];
        if (opts.all) for await (const job of api.jobs.listAll({ status: opts.status, pageSize: 100 })) list.push(job);
        else list = (await api.jobs.list({ status: opts.status, limit: opts.limit })).data;
        if (opts.json) return printJson(list);
        if (!list.length) return print(pc.dim('no jobs yet: try sx run --image IMAGE -- COMMAND'));
        print(
          table(
            ['id', 'name', 'status', 'gpus', 'created', 'ran', 'usage'],
            list.map((j) => [j.id, j.name, status(j.status), `${j.gpu_count}× ${j.gpu_type}`, ago(j.created_at), ranFor(j), usage(j)]),
          ),
        );
      }),
    );

  withJson(jobs.command('get').description('one job in detail'))
    .argument('<id>')
    .action(act(async (id: string, opts: Common) => showJob(await client().jobs.get(id), opts)));

  withJson(jobs.command('cancel').description('cancel a job (a queued one at once; a running one is stopped, SIGTERM first)'))
    .argument('<id>')
    .action(
      act(async (id: string, opts: Common) => {
        const job = await client().jobs.cancel(id);
        if (opts.json) return printJson(job);
        print(job.status === 'cancelled' ? `${job.id} cancelled` : `${job.id} cancel requested (it gets SIGTERM and is cancelled once it stops)`);
      }),
    );

  withJson(jobs.command('events').description("a job's history, oldest first"))
    .argument('<id>')
    .action(
      act(async (id: string, opts: Common) => {
        const events = await client().jobs.events(id);
        if (opts.json) return printJson(events);
        print(table(['time', 'event', 'status', 'usage'], events.map((e) => [`${e.created_at} (${ago(e.created_at)})`, e.type, status(e.data.job.status), usage(e.data.job)])));
      }),
    );

  jobs
    .command('logs')
    .description("a job's output; -f follows it until the job ends")
    .argument('<id>')
    .option('-f, --follow', 'keep printing new output until the job ends')
    .option('--json', 'print {"id", "status", "logs"} as JSON (without -f)')
    .addOption(new Option('--interval <ms>', 'poll interval').default(1000).argParser(positiveInt).hideHelp())
    .action(
      act(async (id: string, opts: Common & { follow?: boolean; interval: number }) => {
        const api = client();
        if (!opts.follow) {
          const logs = await api.jobs.logs(id);
          if (opts.json) return printJson({ id, logs });
          return void process.stdout.write(logs);
        }
        if (opts.json) throw new UsageError('--json cannot be combined with --follow');
        let last: Job | undefined;
        for await (const update of api.jobs.follow(id, { intervalMs: opts.interval })) {
          process.stdout.write(update.newLogs);
          last = update.job;
        }
        if (last) process.stderr.write(pc.dim(`sx: ${last.id} ${last.status}\n`));
        return;
      }),
    );

  // ---------------------------------------------------------------- webhooks
  const webhooks = program.command('webhooks').description('endpoints that receive signed job and credit events');
  withJson(webhooks.command('add').description('add an endpoint (its signing secret is shown once)'))
    .argument('<url>')
    .option('--events <types>', `comma-separated event types (default: all): ${WebhookEventType.options.join(', ')}`, eventTypes)
    .option('--description <text>', 'a note to tell endpoints apart')
    .action(
      act(async (url: string, opts: Common & { events?: CreateWebhookEndpointRequest['events']; description?: string }) => {
        const endpoint = await client().webhookEndpoints.create({ url, events: opts.events, description: opts.description });
        if (opts.json) return printJson(endpoint);
        print(showEndpoint(endpoint, [['secret', `${endpoint.secret}   ${pc.yellow('(shown once: verify deliveries with it)')}`]]));
      }),
    );
  withJson(webhooks.command('ls').alias('list').description('your webhook endpoints, newest first')).action(
    act(async (opts: Common) => {
      const { data } = await client().webhookEndpoints.list();
      if (opts.json) return printJson(data);
      if (!data.length) return print(pc.dim('no webhook endpoints: add one with sx webhooks add URL'));
      print(table(['id', 'url', 'events', 'status', 'created'], data.map((e) => [e.id, e.url, e.events.join(','), endpointStatus(e), ago(e.created_at)])));
    }),
  );
  withJson(webhooks.command('get').description('one endpoint in detail'))
    .argument('<id>')
    .action(
      act(async (id: string, opts: Common) => {
        const endpoint = await client().webhookEndpoints.get(id);
        if (opts.json) return printJson(endpoint);
        print(showEndpoint(endpoint));
      }),
    );
  withJson(webhooks.command('rm').alias('delete').description('delete an endpoint'))
    .argument('<id>')
    .action(
      act(async (id: string, opts: Common) => {
        await client().webhookEndpoints.delete(id);
        if (opts.json) return printJson({ id, deleted: true });
        print(`${id} deleted`);
      }),
    );
  withJson(webhooks.command('enable').description('resume deliveries to an endpoint that was disabled (410 Gone, or days of failures)'))
    .argument('<id>')
    .action(
      act(async (id: string, opts: Common) => {
        const endpoint = await client().webhookEndpoints.enable(id);
        if (opts.json) return printJson(endpoint);
        print(`${endpoint.id} ${endpointStatus(endpoint)}`);
      }),
    );
  withJson(webhooks.command('rotate-secret').description('a new signing secret (shown once); the old one keeps signing for a while'))
    .argument('<id>')
    .option('--expire-previous <duration>', 'how long the old secret keeps signing too: seconds, or 30m, 2h, 1d (default 24h)', durationSeconds)
    .action(
      act(async (id: string, opts: Common & { expirePrevious?: number }) => {
        const endpoint = await client().webhookEndpoints.rotateSecret(id, { expire_previous_in_seconds: opts.expirePrevious });
        if (opts.json) return printJson(endpoint);
        print(
          details([
            ['id', endpoint.id],
            ['secret', `${endpoint.secret}   ${pc.yellow('(shown once)')}`],
            ['old secret', endpoint.previous_secret_expires_at ? `signs too until ${endpoint.previous_secret_expires_at} (${ago(endpoint.previous_secret_expires_at)})` : 'no longer signs'],
          ]),
        );
      }),
    );
  withJson(webhooks.command('deliveries').description("an endpoint's deliveries, newest first: status code, time and next retry"))
    .argument('<id>')
    .addOption(new Option('--status <status>', 'only deliveries in this status').choices(WebhookDeliveryStatus.options))
    .addOption(new Option('-n, --limit <n>', 'how many').default(20).argParser(positiveInt))
    .action(
      act(async (id: string, opts: Common & { limit: number; status?: WebhookDeliveryStatusName }) => {
        const { data } = await client().webhookEndpoints.deliveries(id, { limit: opts.limit, status: opts.status });
        if (opts.json) return printJson(data);
        if (!data.length) return print(pc.dim('no deliveries yet'));
        print(
          table(
            ['id', 'event', 'status', 'code', 'attempts', 'last attempt', 'next retry'],
            data.map((d) => {
              const last = d.attempts.at(-1);
              return [d.id, d.event_type, deliveryStatus(d.status), last ? (last.status_code ?? last.error) : d.failure_reason, d.attempt_count, last ? ago(last.at) : '', d.next_attempt_at ? ago(d.next_attempt_at) : ''];
            }),
          ),
        );
      }),
    );
  withJson(webhooks.command('retry').description('send a delivery again (same webhook-id and body) as soon as possible'))
    .argument('<id>', 'the endpoint')
    .argument('<delivery-id>', 'the delivery (its webhook-id, msg_…)')
    .action(
      act(async (id: string, deliveryId: string, opts: Common) => {
        const delivery = await client().webhookEndpoints.retryDelivery(id, deliveryId);
        if (opts.json) return printJson(delivery);
        print(`${delivery.id} (${delivery.event_type}) will be sent again${delivery.next_attempt_at ? ` ${ago(delivery.next_attempt_at)}` : ''}`);
      }),
    );

  // ---------------------------------------------------------------- api keys
  const apiKeys = program.command('api-keys').description("your account's API keys");
  withJson(apiKeys.command('create').description('another key for this account (shown once; not saved: use sx login to switch)'))
    .option('--name <name>', 'a label to tell keys apart, e.g. ci')
    .action(
      act(async (opts: Common & { name?: string }) => {
        const created = await client().apiKeys.create(opts.name ? { name: opts.name } : {});
        if (opts.json) return printJson(created);
        print(details([['id', created.id], ['name', created.name], ['api key', `${created.api_key}   ${pc.yellow('(shown once: keep it secret)')}`]]));
      }),
    );
  withJson(apiKeys.command('ls').alias('list').description('active keys, newest first (never their secrets)')).action(
    act(async (opts: Common) => {
      const keys = [];
      for await (const key of client().apiKeys.listAll({ pageSize: 100 })) keys.push(key);
      if (opts.json) return printJson(keys);
      print(table(['id', 'name', 'created'], keys.map((k) => [k.id, k.name, ago(k.created_at)])));
    }),
  );
  withJson(apiKeys.command('revoke').description('revoke a key at once (requests with it get 401 from now on)'))
    .argument('<id>', 'the key id (key_…), as sx api-keys ls shows it')
    .action(
      act(async (id: string, opts: Common) => {
        await client().apiKeys.revoke(id);
        if (opts.json) return printJson({ id, revoked: true });
        print(`${id} revoked`);
      }),
    );

  try {
    await program.parseAsync(argv);
    return code;
  } catch (error) {
    return reportError(error);
  }

  function showJob(job: Job, opts: Common) {
    if (opts.json) return printJson(job);
    print(
      details([
        ['id', job.id],
        ['name', job.name],
        ['status', `${status(job.status)}${job.failure_reason ? ` (${job.failure_reason})` : ''}`],
        ['image', job.image],
        ['command', shellJoin(job.command)],
        ['gpus', `${job.gpu_count}× ${job.gpu_type}`],
        ['max runtime', duration(job.max_runtime_seconds)],
        ['held', duration(job.held_seconds)],
        ['created', `${job.created_at} (${ago(job.created_at)})`],
        ['started', job.started_at && `${job.started_at} (${ago(job.started_at)})`],
        ['finished', job.finished_at && `${job.finished_at} (${ago(job.finished_at)})`],
        ['ran', ranFor(job)],
        ['exit code', job.exit_code],
        ['reason', job.status_reason],
        ['usage', `${job.usage.gpu_seconds} GPU·s (${job.usage.trial_gpu_seconds} from the trial), ${money(job.usage.cost)}`],
        ['output', job.output_uri],
      ]),
    );
  }
}

/** An endpoint's status, with why and since when it is disabled. */
function endpointStatus(e: WebhookEndpoint): string {
  if (e.status === 'enabled') return pc.green('enabled');
  return pc.red(`disabled (${e.disabled_reason ?? 'unknown'}${e.disabled_at ? `, ${ago(e.disabled_at)}` : ''})`);
}

function deliveryStatus(name: WebhookDeliveryStatusName): string {
  return name === 'succeeded' ? pc.green(name) : name === 'failed' ? pc.red(name) : pc.yellow(name);
}

function showEndpoint(e: WebhookEndpoint, extra: Array<[string, string]> = []): string {
  return details([
    ['id', e.id],
    ['url', e.url],
    ['events', e.events.join(', ')],
    ['description', e.description],
    ['status', endpointStatus(e)],
    ['created', `${e.created_at} (${ago(e.created_at)})`],
    ...(e.previous_secret_expires_at ? [['old secret', `signs too until ${ago(e.previous_secret_expires_at)}`] as [string, string]] : []),
    ...extra,
  ]);
}

/** `--events a,b`: the API's event types, or `*` for all (checked here, so a typo is a usage error). */
function eventTypes(value: string): CreateWebhookEndpointRequest['events'] {
  const types = value.split(',').map((s) => s.trim()).filter(Boolean);
  if (types.length === 1 && types[0] === '*') return ['*'];
  const unknown = types.filter((t) => !WebhookEventType.safeParse(t).success);
  if (!types.length || unknown.length) throw new InvalidArgumentError(`unknown event type ${unknown.join(', ') || '(none)'}; one of ${WebhookEventType.options.join(', ')}, or *`);
  return types as WebhookEventType[];
}

interface RunOptions {
  image: string;
  gpus: number;
  name?: string;
  env: Record<string, string>;
  maxRuntime?: number;
  detach?: boolean;
  idempotencyKey?: string;
  cancelOnInterrupt?: boolean;
  interval: number;
}

/** One readable line on stderr for any failure, and its exit code (2 for usage mistakes, else 1). */
function reportError(error: unknown): number {
  if (error instanceof CommanderError) {
    // Help and --version "fail" with exit code 0; commander has already printed its message.
    return error.exitCode === 0 ? 0 : EXIT.usage;
  }
  const line = (text: string) => process.stderr.write(`${pc.red('sx: error:')} ${text}\n`);
  if (error instanceof SxApiError) {
    if (error.isMissingRoute) line(`this server does not support ${error.request} yet (${error.type} ${error.status})`);
    else line(error.message);
    if (error.type === 'unauthorized') process.stderr.write(pc.dim('sx: check the key: sx login, or SX_API_KEY\n'));
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

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('must be a whole number above 0');
  return n;
}

function collectEnv(value: string, previous: Record<string, string>): Record<string, string> {
  const eq = value.indexOf('=');
  if (eq < 1) throw new InvalidArgumentError('must be KEY=value');
  return { ...previous, [value.slice(0, eq)]: value.slice(eq + 1) };
}

const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400 };

/** "90" (seconds), "90s", "30m", "2h", "3d" → seconds. */
function durationSeconds(value: string): number {
  const found = /^(\d+)([smhd]?)$/.exec(value.trim());
  if (!found) throw new InvalidArgumentError('must be seconds, or a number with s, m, h or d');
  return Number(found[1]) * UNIT_SECONDS[found[2] || 's']!;
}

/** An ISO time as is, or "7d"/"24h"/"30m" as that long before now. */
function relativeTime(value: string): string {
  if (/^\d+[smhd]$/.test(value)) return new Date(Date.now() - durationSeconds(value) * 1000).toISOString();
  if (Number.isNaN(Date.parse(value))) throw new InvalidArgumentError('must be an ISO 8601 time or e.g. 7d');
  return new Date(value).toISOString();
}

function ranFor(job: Job): string {
  if (!job.started_at) return '';
  const end = job.finished_at ? Date.parse(job.finished_at) : Date.now();
  return duration((end - Date.parse(job.started_at)) / 1000);
}

function intFromEnv(name: string, fallback: number): number {
  const n = Number(process.env[name]);
  return process.env[name] && Number.isInteger(n) && n >= 0 ? n : fallback;
}

async function readStdin(): Promise<string> {
  let text = '';
  for await (const chunk of process.stdin) text += chunk;
  return text;
}
