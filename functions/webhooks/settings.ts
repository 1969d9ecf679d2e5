/**
 * How webhooks are delivered. Lambda uses the defaults; the local stack allows loopback receivers,
 * and tests shrink the retry clock (never sleeping real hours).
 */
export interface WebhookSettings {
  /** The local stack's development allowance (see `url-guard.ts`). @default false */
  allowLoopback: boolean;
  /**
   * Delays before the 2nd, 3rd, … attempt; the first is immediate. After the last, a delivery is given up.
   * @default 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 14 h, 20 h, 24 h (10 attempts over about 3 days)
   */
  retryDelaysSeconds: number[];
  /** Each delay is varied by up to ± this fraction, so retries of many deliveries spread out. @default 0.1 */
  jitter: number;
  /** The whole exchange (connect, headers, body) of one attempt. @default 15000 */
  timeoutMs: number;
  /** An endpoint that failed every attempt for this long is disabled. @default 5 days */
  disableAfterSeconds: number;
  /** …and only after at least this many failed attempts in a row, so sparse evidence disables nothing. @default 5 */
  disableAfterFailures: number;
  /** A receiver's `Retry-After` is honoured up to this. @default 24 h */
  maxRetryAfterSeconds: number;
  /** Delivery records (the log) are kept this long (DynamoDB TTL). @default 30 days */
  retentionSeconds: number;
  /** A scheduled sender run stops taking new due deliveries after this. @default 50000 */
  runBudgetMs: number;
}

export const defaultWebhookSettings: WebhookSettings = {
  allowLoopback: false,
  retryDelaysSeconds: [5, 300, 1_800, 7_200, 18_000, 36_000, 50_400, 72_000, 86_400],
  jitter: 0.1,
  timeoutMs: 15_000,
  disableAfterSeconds: 5 * 86_400,
  disableAfterFailures: 5,
  maxRetryAfterSeconds: 86_400,
  retentionSeconds: 30 * 86_400,
  runBudgetMs: 50_000,
};

export const webhookSettings = (overrides: Partial<WebhookSettings> | undefined): WebhookSettings => ({
  ...defaultWebhookSettings,
  ...overrides,
});
