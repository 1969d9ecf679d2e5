import { logger } from '../../functions/logger';

/**
 * The local stand-in for EventBridge: rules with event patterns (exact-value matching on top-level
 * fields, the part of EventBridge's pattern language our rules use) and targets invoked with
 * retries and exponential backoff. Each target gets events one at a time, in the order they were
 * put. What exhausts its retries is logged as a dead letter.
 */
export interface LocalRule {
  name: string;
  pattern: Record<string, readonly string[]>;
  target: (event: any) => Promise<unknown>;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export class LocalEventBus {
  private readonly queues: Array<{ rule: LocalRule; pending: unknown[]; running: Promise<void> | null }>;
  private closed = false;

  constructor(rules: LocalRule[], private readonly options: { maxAttempts?: number; baseDelayMs?: number } = {}) {
    this.queues = rules.map((rule) => ({ rule, pending: [], running: null }));
  }

  /** Adds rules (targets may need the bus to exist first, as the compute backend does). */
  addRules(rules: LocalRule[]): void {
    this.queues.push(...rules.map((rule) => ({ rule, pending: [], running: null })));
  }

  /** Puts an event on the bus; matching targets are invoked asynchronously. */
  put(event: Record<string, unknown>): void {
    if (this.closed) return;
    for (const queue of this.queues) {
      if (!matches(queue.rule.pattern, event)) continue;
      queue.pending.push(event);
      queue.running ??= this.drain(queue).finally(() => {
        queue.running = null;
      });
    }
  }

  /** Delivers what is queued, then stops accepting events. */
  async close(): Promise<void> {
    while (this.queues.some((q) => q.running)) await Promise.all(this.queues.map((q) => q.running));
    this.closed = true;
  }

  private async drain(queue: (typeof this.queues)[number]): Promise<void> {
    const maxAttempts = this.options.maxAttempts ?? 8;
    const baseDelay = this.options.baseDelayMs ?? 100;
    while (queue.pending.length > 0) {
      const event = queue.pending.shift();
      for (let attempt = 1; ; attempt++) {
        try {
          await queue.rule.target(event);
          break;
        } catch (error) {
          if (attempt >= maxAttempts) {
            logger.error('event sent to the dead-letter log', { rule: queue.rule.name, event, error });
            break;
          }
          await sleep(Math.min(baseDelay * 2 ** attempt, 10_000));
        }
      }
    }
  }
}

function matches(pattern: Record<string, readonly string[]>, event: Record<string, unknown>): boolean {
  return Object.entries(pattern).every(([field, values]) => values.includes(event[field] as string));
}
