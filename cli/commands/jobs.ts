import { registerJobOutputCommands } from './files';
import { Option, type Command } from 'commander';
import pc from 'picocolors';
import type { Job, JobStatusName } from '../../sdk/client';
import { UsageError, type CliContext, type JsonOption } from '../context';
import { ago, details, duration, money, shellJoin, status, table, usage } from '../format';
import { positiveInt } from '../options';
import { lastValues, latestMetrics } from '../metrics';
import { registerMetricsCommands } from './metrics';

/** `sx jobs ls|get|cancel|events|logs|metrics`: list, inspect, cancel and follow jobs. */
export function registerJobsCommands(program: Command, cli: CliContext): void {
  const { act, client, print, printJson, withJson } = cli;

  const jobs = program.command('jobs').description('list, inspect, cancel and follow jobs');
  withJson(jobs.command('ls').alias('list').description('your jobs, newest first'))
    .addOption(new Option('--status <status>', 'only jobs in this status').choices(['queued', 'starting', 'running', 'succeeded', 'failed', 'cancelled']))
    .addOption(new Option('-n, --limit <n>', 'how many').default(20).argParser(positiveInt))
    .option('-a, --all', 'every job (follows the pages)')
    .action(
      act(async (opts: JsonOption & { status?: JobStatusName; limit: number; all?: boolean }) => {
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
    .action(
      act(async (id: string, opts: JsonOption) => {
        const api = client();
        const job = await api.jobs.get(id);
        if (opts.json) return printJson(job);
        print(showJob(job, lastValues(await latestMetrics(api, job.id))));
      }),
    );

  withJson(jobs.command('cancel').description('cancel a job (a queued one at once; a running one is stopped, SIGTERM first)'))
    .argument('<id>')
    .action(
      act(async (id: string, opts: JsonOption) => {
        const job = await client().jobs.cancel(id);
        if (opts.json) return printJson(job);
        print(job.status === 'cancelled' ? `${job.id} cancelled` : `${job.id} cancel requested (it gets SIGTERM and is cancelled once it stops)`);
      }),
    );

  withJson(jobs.command('events').description("a job's history, oldest first"))
    .argument('<id>')
    .action(
      act(async (id: string, opts: JsonOption) => {
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
      act(async (id: string, opts: JsonOption & { follow?: boolean; interval: number }) => {
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

  registerMetricsCommands(jobs, cli);
  registerJobOutputCommands(jobs, cli);
}

/** One job as key–value lines. */
function showJob(job: Job, metrics: string): string {
  return details([
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
    ['metrics', metrics],
  ]);
}

/** How long a job ran (so far, while it runs); empty before it started. */
function ranFor(job: Job): string {
  if (!job.started_at) return '';
  const end = job.finished_at ? Date.parse(job.finished_at) : Date.now();
  return duration((end - Date.parse(job.started_at)) / 1000);
}
