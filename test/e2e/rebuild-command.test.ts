import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { testDynamoEndpoint } from '../support/dynamodb';
import { runRebuild } from '../support/rebuild-command';
import { projections } from '../../functions/views/projections';

// The command on bad input: one readable line on stderr, a non-zero exit, nothing touched.
// (Its good path runs at the end of test/e2e/crash-restart.test.ts, against the crashed stack's tables.)
describe('npm run rebuild, on bad input', () => {
  it.concurrent('names an unknown projection and lists the known ones', async () => {
    const run = await runRebuild(['--only', 'job-views,nope', '--endpoint', testDynamoEndpoint()]);
    expect(run.code).not.toBe(0);
    const known = projections.map((p) => p.name).join(', ');
    expect(known).toMatch(/^job-views, active-jobs, usage-lines, monthly-vouchers, account-snapshots/);
    expect(run.stderr).toBe(`rebuild: option '--only <names>' argument 'job-views,nope' is invalid. choose from ${known} (npm run rebuild -- --help)\n`);
  });

  it.concurrent('says which tables are missing', async () => {
    const run = await runRebuild(['--endpoint', testDynamoEndpoint(), '--table-prefix', 'sx-no-such-tables']);
    expect(run.code).not.toBe(0);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(run.stderr).toMatch(/No table sx-no-such-tables-events in http:\/\/127\.0\.0\.1:\d+ \(set --table-prefix or --events-table\/--views-table\)/);
  });

  it.concurrent('says when nothing answers at the endpoint', async () => {
    const run = await runRebuild(['--endpoint', 'http://127.0.0.1:9']);
    expect(run.code).not.toBe(0);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(run.stderr).toMatch(/Nothing answers at http:\/\/127\.0\.0\.1:9/);
  });

  it.concurrent('refuses a data directory npm start never used', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sx-rebuild-'));
    try {
      const run = await runRebuild(['--data-dir', dir]);
      expect(run.code).not.toBe(0);
      expect(run.stderr.trim().split('\n')).toHaveLength(1);
      expect(run.stderr).toContain('has `npm start` run with this data directory?');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
