import { InvalidArgumentError, Option, type Command } from 'commander';
import pc from 'picocolors';
import { WebhookDeliveryStatus, WebhookEventType, type CreateWebhookEndpointRequest } from '../../events/api/webhooks';
import type { WebhookDeliveryStatusName, WebhookEndpoint } from '../../sdk/client';
import type { CliContext, JsonOption } from '../context';
import { ago, details, table } from '../format';
import { durationSeconds, positiveInt } from '../options';

/** `sx webhooks add|ls|get|rm|enable|rotate-secret|deliveries|retry`: endpoints that receive signed events. */
export function registerWebhooksCommands(program: Command, cli: CliContext): void {
  const { act, client, print, printJson, withJson } = cli;

  const webhooks = program.command('webhooks').description('endpoints that receive signed job and credit events');
  withJson(webhooks.command('add').description('add an endpoint (its signing secret is shown once)'))
    .argument('<url>')
    .option('--events <types>', `comma-separated event types (default: all): ${WebhookEventType.options.join(', ')}`, eventTypes)
    .option('--description <text>', 'a note to tell endpoints apart')
    .action(
      act(async (url: string, opts: JsonOption & { events?: CreateWebhookEndpointRequest['events']; description?: string }) => {
        const endpoint = await client().webhookEndpoints.create({ url, events: opts.events, description: opts.description });
        if (opts.json) return printJson(endpoint);
        print(showEndpoint(endpoint, [['secret', `${endpoint.secret}   ${pc.yellow('(shown once: verify deliveries with it)')}`]]));
      }),
    );
  withJson(webhooks.command('ls').alias('list').description('your webhook endpoints, newest first')).action(
    act(async (opts: JsonOption) => {
      const { data } = await client().webhookEndpoints.list();
      if (opts.json) return printJson(data);
      if (!data.length) return print(pc.dim('no webhook endpoints: add one with sx webhooks add URL'));
      print(table(['id', 'url', 'events', 'status', 'created'], data.map((e) => [e.id, e.url, e.events.join(','), endpointStatus(e), ago(e.created_at)])));
    }),
  );
  withJson(webhooks.command('get').description('one endpoint in detail'))
    .argument('<id>')
    .action(
      act(async (id: string, opts: JsonOption) => {
        const endpoint = await client().webhookEndpoints.get(id);
        if (opts.json) return printJson(endpoint);
        print(showEndpoint(endpoint));
      }),
    );
  withJson(webhooks.command('rm').alias('delete').description('delete an endpoint'))
    .argument('<id>')
    .action(
      act(async (id: string, opts: JsonOption) => {
        await client().webhookEndpoints.delete(id);
        if (opts.json) return printJson({ id, deleted: true });
        print(`${id} deleted`);
      }),
    );
  withJson(webhooks.command('enable').description('resume deliveries to an endpoint that was disabled (410 Gone, or days of failures)'))
    .argument('<id>')
    .action(
      act(async (id: string, opts: JsonOption) => {
        const endpoint = await client().webhookEndpoints.enable(id);
        if (opts.json) return printJson(endpoint);
        print(`${endpoint.id} ${endpointStatus(endpoint)}`);
      }),
    );
  withJson(webhooks.command('rotate-secret').description('a new signing secret (shown once); the old one keeps signing for a while'))
    .argument('<id>')
    .option('--expire-previous <duration>', 'how long the old secret keeps signing too: seconds, or 30m, 2h, 1d (default 24h)', durationSeconds)
    .action(
      act(async (id: string, opts: JsonOption & { expirePrevious?: number }) => {
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
      act(async (id: string, opts: JsonOption & { limit: number; status?: WebhookDeliveryStatusName }) => {
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
      act(async (id: string, deliveryId: string, opts: JsonOption) => {
        const delivery = await client().webhookEndpoints.retryDelivery(id, deliveryId);
        if (opts.json) return printJson(delivery);
        print(`${delivery.id} (${delivery.event_type}) will be sent again${delivery.next_attempt_at ? ` ${ago(delivery.next_attempt_at)}` : ''}`);
      }),
    );
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
