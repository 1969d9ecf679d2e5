import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DescribeTableCommand, DescribeTimeToLiveCommand, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDynamoClients } from '../../functions/adapters/dynamodb';
import { ensureTables } from '../../infra/local/create-tables';
import { JavaMissingError, startDynamoDbLocal } from '../../infra/local/dynamodb-local';
import { tableNames } from '../../infra/tables';
import { createTestTables, type TestTables } from '../support/dynamodb';

describe('ensureTables', () => {
  let tables: TestTables;
  beforeAll(async () => {
    tables = await createTestTables();
  });
  afterAll(async () => {
    await tables?.drop();
  });

  it('is a no-op when the tables exist', async () => {
    // Act
    await ensureTables(tables.client, tables.names);
    await ensureTables(tables.client, tables.names);

    // Assess
    const { TableNames = [] } = await tables.client.send(new ListTablesCommand({}));
    expect(TableNames.filter((name) => name === tables.names.events || name === tables.names.views)).toHaveLength(2);
  });

  it('gives events a NEW_IMAGE stream and views none', async () => {
    // Act
    const events = await tables.client.send(new DescribeTableCommand({ TableName: tables.names.events }));
    const views = await tables.client.send(new DescribeTableCommand({ TableName: tables.names.views }));

    // Assess
    expect(events.Table?.TableStatus).toBe('ACTIVE');
    expect(events.Table?.StreamSpecification).toEqual({ StreamEnabled: true, StreamViewType: 'NEW_IMAGE' });
    expect(events.Table?.LatestStreamArn).toMatch(/^arn:aws:dynamodb:.+:table\/.+\/stream\//);
    expect(views.Table?.LatestStreamArn).toBeUndefined();
  });

  it('enables TTL on the views table, as the CDK stack does, and nowhere else', async () => {
    // Act
    const views = await tables.client.send(new DescribeTimeToLiveCommand({ TableName: tables.names.views }));
    const events = await tables.client.send(new DescribeTimeToLiveCommand({ TableName: tables.names.events }));

    // Assess
    expect(views.TimeToLiveDescription).toEqual({ TimeToLiveStatus: 'ENABLED', AttributeName: 'expiresAt' });
    expect(events.TimeToLiveDescription?.TimeToLiveStatus).toBe('DISABLED');
  });
});

describe('startDynamoDbLocal', () => {
  it('keeps the tables in dataDir across a restart, and stop() can be called twice', async () => {
    // Prepare
    const dataDir = await mkdtemp(join(tmpdir(), 'sx-dynamodb-local-'));
    const names = tableNames('sx-persist');
    // Stopped in `finally` too, so a failure or a timeout does not leave a JVM running.
    const started: Array<{ stop(): Promise<void> }> = [];
    try {
      const first = await startDynamoDbLocal({ dataDir });
      started.push(first);
      const firstClients = createDynamoClients({ endpoint: first.endpoint });
      await ensureTables(firstClients.client, names);
      firstClients.client.destroy();
      await first.stop();
      await first.stop();

      // Act
      const second = await startDynamoDbLocal({ dataDir, port: first.port });
      started.push(second);
      const { client } = createDynamoClients({ endpoint: second.endpoint, region: 'eu-west-1' });
      const { TableNames = [] } = await client.send(new ListTablesCommand({}));
      client.destroy();
      await second.stop();

      // Assess
      expect(TableNames).toEqual(expect.arrayContaining([names.events, names.views]));
    } finally {
      await Promise.all(started.map((d) => d.stop()));
      await rm(dataDir, { recursive: true, force: true });
    }
  }, 200_000); // Two starts of DynamoDB Local, each allowed 90 s on a loaded machine.

  it('says in one line that Java is needed when it is missing or too old', async () => {
    // Prepare
    const noJava = await withFakeJava(null);
    const oldJava = await withFakeJava('echo \'openjdk version "11.0.22" 2024-01-16\' >&2');

    // Act
    const missing = await noJava.run(() => startDynamoDbLocal()).catch((e: unknown) => e);
    const tooOld = await oldJava.run(() => startDynamoDbLocal()).catch((e: unknown) => e);

    // Assess
    for (const error of [missing, tooOld]) {
      expect(error).toBeInstanceOf(JavaMissingError);
      expect((error as Error).message).toMatch(/^Java 17\+ is required to run DynamoDB Local \(e\.g\. apt-get install openjdk-17-jre-headless\)/);
      expect((error as Error).message).not.toContain('\n');
    }
    expect((tooOld as Error).message).toContain('found Java 11');
  });

  it('rejects with the end of its output when the process exits before it is ready', async () => {
    // Prepare: a `java` that passes the version check, then fails like a broken install would
    const brokenJava = await withFakeJava('echo \'openjdk version "17.0.1"\' >&2', 'echo "Error: Unable to access jarfile" >&2; exit 1');

    // Act
    const error = await brokenJava.run(() => startDynamoDbLocal()).catch((e: unknown) => e);

    // Assess
    expect((error as Error).message).toMatch(/exited before it was ready \(code 1\)/);
    expect((error as Error).message).toContain('Error: Unable to access jarfile');
  });
});

/**
 * Puts a fake `java` (a shell script) alone on the PATH while `run` runs: `versionScript` answers
 * `java -version`, `runScript` anything else; `null` means no java at all.
 */
async function withFakeJava(versionScript: string | null, runScript = 'exit 1') {
  const dir = await mkdtemp(join(tmpdir(), 'sx-fake-java-'));
  if (versionScript !== null) {
    const script = `#!/bin/sh\nif [ "$1" = "-version" ]; then ${versionScript}; exit 0; fi\n${runScript}\n`;
    await writeFile(join(dir, 'java'), script, { mode: 0o755 });
  }
  return {
    async run<T>(fn: () => Promise<T>): Promise<T> {
      const path = process.env.PATH;
      // The script needs no PATH (absolute shebang, shell builtins), so the fake directory can be all of it.
      process.env.PATH = dir;
      try {
        return await fn();
      } finally {
        process.env.PATH = path;
        await rm(dir, { recursive: true, force: true });
      }
    },
  };
}
