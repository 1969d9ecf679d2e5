/**
 * Webhook figures for `npm run bench`, against a local stack started as `npm start` does:
 * - delivery latency: domain event appended (the payload's `timestamp`, the event's `at`) → a receiver
 *   on loopback got it, beside the dispatcher's reaction to the same `JobQueued` on the same stream
 *   poller (`BatchJobSubmitted.at − JobQueued.at`) as the same-run baseline;
 * - deliveries per second to a fast receiver (200 at once), beside raw signed POSTs per second from
 *   this process to the same receiver at the same concurrency.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { request, Agent } from 'undici';
import { apiClient, eventually, type StackProcess } from '../infra/local/stack-process';
import { signedHeaders } from '../functions/webhooks/http-sender';
import { fmt, percentile, throughput } from './stats';

const LATENCY_JOBS = 15;
const LOAD_ACCOUNTS = 12;
const ENDPOINTS_PER_ACCOUNT = 8;

interface Hit {
  at: number;
  timestamp: string;
  type: string;
  jobId: string;
}

export async function benchWebhooks(stack: StackProcess): Promise<void> {
  const hits: Hit[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const at = Date.now();
      res.end('ok');
      if (req.url === '/raw') return;
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      hits.push({ at, timestamp: body.timestamp, type: body.type, jobId: body.data.job.id });
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const receiverUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  try {
    // 1. Latency, one job at a time, one endpoint.
    const signup = await apiClient(stack.url).post('/v1/signup', { email: 'bench-webhooks@example.com' });
    const api = apiClient(stack.url, signup.body.api_key);
    await api.post('/v1/webhook-endpoints', { url: `${receiverUrl}/latency` });
    const dispatch: number[] = [];
    for (let i = 0; i < LATENCY_JOBS; i++) {
      const job = (await api.post('/v1/jobs', { image: 'bench/hook:1', command: ['true'], gpu_count: 1, max_runtime_seconds: 60 })).body;
      await eventually(async () => hits.some((h) => h.jobId === job.id && (h.type === 'job.succeeded' || h.type === 'job.failed')), 30_000, 'the final webhook');
    }
    const latencies = hits.map((h) => h.at - Date.parse(h.timestamp));
    // The baseline: the dispatcher's reaction to the same JobQueued events, read from the job streams.
    const jobs = (await api.get('/v1/jobs?limit=100')).body.data as Array<{ id: string }>;
    for (const job of jobs) {
      const res = await fetch(`${stack.url}/v1/jobs/${job.id}/events`, { headers: { authorization: `Bearer ${signup.body.api_key}` } });
      const events = ((await res.json()) as { data: Array<{ type: string; created_at: string }> }).data;
      const queued = events.find((e) => e.type === 'job.queued');
      const starting = events.find((e) => e.type === 'job.starting');
      // job.starting is appended by the compute backend right after the dispatcher's submit.
      if (queued && starting) dispatch.push(Date.parse(starting.created_at) - Date.parse(queued.created_at));
    }
    console.log(
      `webhook latency, event appended → receiver got it (${latencies.length} deliveries of ${LATENCY_JOBS} jobs): p50 ${fmt(percentile(latencies, 50))} ms, p99 ${fmt(percentile(latencies, 99))} ms; ` +
        `baseline JobQueued → job.starting (dispatcher, same poller): p50 ${fmt(percentile(dispatch, 50))} ms; ratio of p50s ${fmt(percentile(latencies, 50) / percentile(dispatch, 50), 2)}`,
    );

    // 2. Throughput: many accounts, each with several endpoints, jobs submitted at once.
    hits.length = 0;
    const keys = await Promise.all(
      Array.from({ length: LOAD_ACCOUNTS }, async (_, i) => (await apiClient(stack.url).post('/v1/signup', { email: `bench-load-${i}@example.com` })).body.api_key as string),
    );
    for (const key of keys) {
      for (let e = 0; e < ENDPOINTS_PER_ACCOUNT; e++) await apiClient(stack.url, key).post('/v1/webhook-endpoints', { url: `${receiverUrl}/load/${e}` });
    }
    const expected = LOAD_ACCOUNTS * ENDPOINTS_PER_ACCOUNT * 4;
    const started = Date.now();
    await Promise.all(keys.map((key) => apiClient(stack.url, key).post('/v1/jobs', { image: 'bench/hook:1', command: ['true'], gpu_count: 1, max_runtime_seconds: 60 })));
    await eventually(async () => hits.length >= expected, 120_000, `${expected} deliveries`);
    const last = Math.max(...hits.map((h) => h.at));
    const rate = hits.length / ((last - started) / 1000);

    const agent = new Agent();
    const secret = `whsec_${Buffer.alloc(32, 7).toString('base64')}`;
    const body = JSON.stringify({ type: 'job.succeeded', timestamp: new Date().toISOString(), data: { job: { id: 'job_x' } } });
    const raw = await throughput(
      async () => {
        const res = await request(`${receiverUrl}/raw`, { method: 'POST', body, headers: signedHeaders('msg_x', body, [secret], new Date()), dispatcher: agent });
        await res.body.text();
      },
      { concurrency: 16, durationMs: 3_000 },
    );
    await agent.close();
    console.log(
      `webhook deliveries/s to a fast receiver (${hits.length} deliveries: ${LOAD_ACCOUNTS} jobs × ${ENDPOINTS_PER_ACCOUNT} endpoints × 4 events, submit → last received): ${fmt(rate)}/s; ` +
        `raw signed POSTs from one client, concurrency 16: ${fmt(raw)}/s; ratio ${fmt(rate / raw, 3)}`,
    );
  } finally {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  }
}
