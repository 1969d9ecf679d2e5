import type { Command } from 'commander';
import pc from 'picocolors';
import type { SxClient } from '../../sdk/client';
import { UsageError, type CliContext, type JsonOption } from '../context';
import { details, money, table } from '../format';

type Amount = { trial_gpu_seconds: number; amount: { amount: number; currency: string } };

/** `¥12.50` from `12.5` or `12.50`: the operator types yuan, the API takes fen. */
function fenOf(text: string): number {
  if (!/^\d{1,9}(\.\d{1,2})?$/.test(text)) throw new UsageError(`--amount must be yuan with at most two decimals, e.g. 50 or 12.50 (got ${JSON.stringify(text)})`);
  return Math.round(Number(text) * 100);
}

/** A ledger quantity as a person reads it: money and, when there are any, trial GPU-seconds. */
const quantity = (a: Amount) => [a.amount.amount !== 0 || a.trial_gpu_seconds === 0 ? money(a.amount) : null, a.trial_gpu_seconds !== 0 ? `${a.trial_gpu_seconds} trial GPU-s` : null].filter(Boolean).join(' + ');

/** `sx admin …`: the operators' tools, with the deployment's admin key (`SX_ADMIN_KEY`). */
export function registerAdminCommands(program: Command, cli: CliContext): void {
  const { act, print, printJson, withJson } = cli;
  const admin = program.command('admin').description("operators' tools, with the admin key in SX_ADMIN_KEY; changes name their operator (--operator or SX_OPERATOR)");

  const adminClient = (): SxClient => {
    const key = process.env.SX_ADMIN_KEY;
    if (!key) throw new UsageError('set SX_ADMIN_KEY to the deployment admin key (npm start prints it; in AWS it is in Secrets Manager)');
    return cli.client({ apiKey: key });
  };
  const operator = (opts: { operator?: string }): string => {
    const name = opts.operator ?? process.env.SX_OPERATOR;
    if (!name || !name.trim()) throw new UsageError('name the operator making this change: --operator NAME or SX_OPERATOR');
    return name.trim();
  };
  /** A change: why, and who makes it. */
  const change = (command: Command) =>
    command
      .requiredOption('--reason <text>', 'why, recorded with the change and shown in the statement')
      .option('--operator <name>', 'who makes the change, recorded with it (default: SX_OPERATOR)');

  const accounts = admin.command('accounts').description('find accounts and make them right');
  withJson(accounts.command('ls').alias('search').description('accounts, newest first, optionally by email prefix'))
    .option('--email <prefix>', 'a case-insensitive prefix of the email')
    .option('--limit <n>', 'at most this many (1–100)', '20')
    .action(
      act(async (opts: JsonOption & { email?: string; limit: string }) => {
        const page = await adminClient().admin.accounts.search({ ...(opts.email ? { email: opts.email } : {}), limit: Number(opts.limit) });
        if (opts.json) return printJson(page.data);
        print(table(['id', 'email', 'status', 'available', 'held', 'jobs'], page.data.map((a) => [a.id, a.email, a.status, `${money(a.available.amount)} + ${a.available.trial_gpu_seconds} trial GPU-s`, money(a.held.amount), a.jobs.total])));
      }),
    );
  withJson(accounts.command('get').description('one account: balance, credits, suspension, jobs'))
    .argument('<id>', 'the account id (acct_…)')
    .action(
      act(async (id: string, opts: JsonOption) => {
        const a = await adminClient().admin.accounts.get(id);
        if (opts.json) return printJson(a);
        print(
          details([
            ['id', a.id],
            ['email', a.email],
            ['status', a.status === 'suspended' ? pc.red(`suspended by ${a.suspension?.operator} (${a.suspension?.reason})`) : a.status],
            ['available', `${money(a.available.amount)} + ${a.available.trial_gpu_seconds} trial GPU-s`],
            ['held', `${money(a.held.amount)} + ${a.held.gpu_seconds} trial GPU-s`],
            ['credits', String(a.credits.length)],
            ['jobs', `${a.jobs.total} (${a.jobs.running} running, ${a.jobs.queued} queued)`],
          ]),
        );
      }),
    );
  withJson(accounts.command('statement').alias('ledger').description("the account's ledger as a statement: date, what, amount, balance after"))
    .argument('<id>', 'the account id (acct_…)')
    .action(
      act(async (id: string, opts: JsonOption) => {
        const client = adminClient();
        const entries = [];
        let cursor: string | undefined;
        do {
          const page = await client.admin.accounts.ledger(id, { limit: 100, ...(cursor ? { cursor } : {}) });
          entries.push(...page.data);
          cursor = page.next_cursor ?? undefined;
        } while (cursor);
        if (opts.json) return printJson(entries);
        print(table(['date', 'what', 'amount', 'balance after', 'by'], entries.map((e) => [e.created_at.slice(0, 19).replace('T', ' '), e.description, quantity(e.amount), quantity(e.balance_after), e.actor])));
      }),
    );
  withJson(change(accounts.command('credit').description('a goodwill or refund credit (an adjustment in the statement)')))
    .argument('<id>', 'the account id (acct_…)')
    .requiredOption('--amount <yuan>', 'how much, in yuan (e.g. 50 or 12.50)')
    .option('--expires <iso>', 'when the credit expires (default: never)')
    .action(
      act(async (id: string, opts: JsonOption & { amount: string; reason: string; expires?: string; operator?: string }) => {
        const body = { amount: { amount: fenOf(opts.amount), currency: 'CNY' as const }, reason: opts.reason, ...(opts.expires ? { expires_at: opts.expires } : {}) };
        const credit = await adminClient().admin.accounts.credit(id, body, operator(opts));
        if (opts.json) return printJson(credit);
        print(`${money(credit.granted)} credited to ${id} (${credit.id})`);
      }),
    );
  for (const [verb, what] of [
    ['suspend', 'refuse its keys at once and cancel its jobs (running ones get SIGTERM and the grace)'],
    ['reactivate', 'give access back (cancelled jobs stay cancelled)'],
  ] as const) {
    withJson(change(accounts.command(verb).description(what)))
      .argument('<id>', 'the account id (acct_…)')
      .action(
        act(async (id: string, opts: JsonOption & { reason: string; operator?: string }) => {
          const client = adminClient();
          const a = verb === 'suspend' ? await client.admin.accounts.suspend(id, opts.reason, operator(opts)) : await client.admin.accounts.reactivate(id, opts.reason, operator(opts));
          if (opts.json) return printJson(a);
          print(`${id} is ${a.status}`);
        }),
      );
  }

  const vouchers = admin.command('vouchers').description('create, list and disable vouchers');
  withJson(vouchers.command('create').description('a voucher; its code is shown this once'))
    .requiredOption('--amount <yuan>', 'its value in yuan')
    .option('--max-redemptions <n>', 'how many accounts may redeem it', '1')
    .option('--expires <iso>', 'when it can no longer be redeemed')
    .option('--monthly', 'credit the amount again every month to each account that redeemed it')
    .action(
      act(async (opts: JsonOption & { amount: string; maxRedemptions: string; expires?: string; monthly?: boolean }) => {
        const max = Number(opts.maxRedemptions);
        if (!Number.isInteger(max) || max < 1) throw new UsageError(`--max-redemptions must be a whole number ≥ 1 (got ${JSON.stringify(opts.maxRedemptions)})`);
        const voucher = await adminClient().admin.vouchers.create({
          amount: { amount: fenOf(opts.amount), currency: 'CNY' },
          max_redemptions: max,
          ...(opts.expires ? { expires_at: opts.expires } : {}),
          ...(opts.monthly ? { recurrence: 'monthly' as const } : {}),
        });
        if (opts.json) return printJson(voucher);
        print(details([['id', voucher.id], ['code', `${voucher.code}   ${pc.yellow('(shown once)')}`], ['amount', money(voucher.amount)]]));
      }),
    );
  withJson(vouchers.command('ls').alias('list').description('vouchers, newest first (never their codes)'))
    .option('--limit <n>', 'at most this many (1–100)', '20')
    .action(
      act(async (opts: JsonOption & { limit: string }) => {
        const page = await adminClient().admin.vouchers.list({ limit: Number(opts.limit) });
        if (opts.json) return printJson(page.data);
        print(table(['id', 'amount', 'redeemed', 'status', 'expires'], page.data.map((v) => [v.id, money(v.amount), `${v.redemptions}/${v.max_redemptions}`, v.status, v.expires_at ?? 'never'])));
      }),
    );
  withJson(change(vouchers.command('disable').description('no more redemptions nor monthly credits; what was granted stays')))
    .argument('<id>', 'the voucher id (vch_…)')
    .action(
      act(async (id: string, opts: JsonOption & { reason: string; operator?: string }) => {
        const voucher = await adminClient().admin.vouchers.disable(id, opts.reason, operator(opts));
        if (opts.json) return printJson(voucher);
        print(`${id} is ${voucher.status}`);
      }),
    );

  withJson(admin.command('jobs').description('jobs of every account, newest first'))
    .option('--status <status>', 'only jobs in this status')
    .option('--account <id>', 'only this account’s jobs')
    .option('--limit <n>', 'at most this many (1–100)', '20')
    .action(
      act(async (opts: JsonOption & { status?: string; account?: string; limit: string }) => {
        const page = await adminClient().admin.jobs({ ...(opts.status ? { status: opts.status } : {}), ...(opts.account ? { account_id: opts.account } : {}), limit: Number(opts.limit) });
        if (opts.json) return printJson(page.data);
        print(table(['id', 'account', 'status', 'gpus', 'cost'], page.data.map((j) => [j.id, j.account_id, j.status, j.gpu_count, money(j.usage.cost)])));
      }),
    );
}
