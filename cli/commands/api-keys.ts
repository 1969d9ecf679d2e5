import type { Command } from 'commander';
import pc from 'picocolors';
import type { CliContext, JsonOption } from '../context';
import { ago, details, table } from '../format';

/** `sx api-keys create|ls|revoke`: the account's API keys. */
export function registerApiKeysCommands(program: Command, cli: CliContext): void {
  const { act, client, print, printJson, withJson } = cli;

  const apiKeys = program.command('api-keys').description("your account's API keys");
  withJson(apiKeys.command('create').description('another key for this account (shown once; not saved: use sx login to switch)'))
    .option('--name <name>', 'a label to tell keys apart, e.g. ci')
    .action(
      act(async (opts: JsonOption & { name?: string }) => {
        const created = await client().apiKeys.create(opts.name ? { name: opts.name } : {});
        if (opts.json) return printJson(created);
        print(details([['id', created.id], ['name', created.name], ['api key', `${created.api_key}   ${pc.yellow('(shown once: keep it secret)')}`]]));
      }),
    );
  withJson(apiKeys.command('ls').alias('list').description('active keys, newest first (never their secrets)')).action(
    act(async (opts: JsonOption) => {
      const keys = [];
      for await (const key of client().apiKeys.listAll({ pageSize: 100 })) keys.push(key);
      if (opts.json) return printJson(keys);
      print(table(['id', 'name', 'created'], keys.map((k) => [k.id, k.name, ago(k.created_at)])));
    }),
  );
  withJson(apiKeys.command('revoke').description('revoke a key at once (requests with it get 401 from now on)'))
    .argument('<id>', 'the key id (key_…), as sx api-keys ls shows it')
    .action(
      act(async (id: string, opts: JsonOption) => {
        await client().apiKeys.revoke(id);
        if (opts.json) return printJson({ id, revoked: true });
        print(`${id} revoked`);
      }),
    );
}
