import { evolveAccount, heldCreditAmount, heldTrialGpuSeconds, initialAccountState, type AccountState } from '../../domain/ledger/account';
import type { AccountEvent } from '../../events/account-events';
import type { LedgerEntry } from '../../events/api/admin';
import type { StoredEvent } from '../adapters/event-store';

/** ¥12.50 for 1250 fen. */
export const yuan = (fen: number) => `${fen < 0 ? '−' : ''}¥${(Math.abs(fen) / 100).toFixed(2)}`;

const cny = (amount: number) => ({ amount, currency: 'CNY' as const });
const quantity = (trialGpuSeconds: number, fen: number) => ({ trial_gpu_seconds: trialGpuSeconds, amount: cny(fen) });

/** The account's balance: what is not spent yet (free or held), trial GPU-seconds and credits' money. */
function balance(state: AccountState) {
  if (state.status !== 'open') return quantity(0, 0);
  return quantity(state.trial.granted - state.trial.charged, Object.values(state.credits).reduce((sum, c) => sum + c.granted - c.charged, 0));
}
const held = (state: AccountState) => quantity(heldTrialGpuSeconds(state), heldCreditAmount(state));

/** "72 trial GPU-s and ¥1.20", leaving out what is zero. */
function both(trialGpuSeconds: number, fen: number): string {
  const parts = [trialGpuSeconds !== 0 ? `${Math.abs(trialGpuSeconds)} trial GPU-s` : '', fen !== 0 ? yuan(Math.abs(fen)) : ''].filter(Boolean);
  return parts.join(' and ') || 'nothing';
}

/**
 * The account's ledger as a statement, oldest first, read from its own events (the audit trail):
 * every grant, hold, charge, release, credit, adjustment and suspension, each with what it did to the
 * balance (what is not spent: free or held), the balance and the holds after it, who did it and why.
 * A hold only reserves (the balance is unchanged, the holds grow); a settlement is two lines: the
 * charge (the balance falls by what the job used) and the release of the rest of the hold.
 * `BalanceLow` notices change no balance and are left out.
 * @param events the account stream's events from version 1, parsed, with what was stored.
 */
export function statementOf(events: Array<{ stored: StoredEvent; event: AccountEvent }>): LedgerEntry[] {
  const lines: LedgerEntry[] = [];
  let state = initialAccountState();
  for (const { stored, event } of events) {
    const before = state;
    state = evolveAccount(state, event);
    const base = {
      object: 'ledger_entry' as const,
      created_at: stored.at,
      actor: stored.metadata.actor ?? 'system',
      balance_after: balance(state),
      held_after: held(state),
      job_id: null as string | null,
      credit_id: null as string | null,
      reason: null as string | null,
    };
    const line = (id: string, fields: Pick<LedgerEntry, 'type' | 'description' | 'amount'> & Partial<LedgerEntry>) =>
      lines.push({ ...base, id, ...fields });
    const v = String(stored.version);
    switch (event.type) {
      case 'AccountOpened': {
        const { gpuSeconds } = event.data.trial;
        line(v, { type: 'trial_granted', description: `Trial: ${gpuSeconds} ${event.data.trial.gpuType.toUpperCase()} GPU-s`, amount: quantity(gpuSeconds, 0) });
        break;
      }
      case 'CreditGranted': {
        const d = event.data;
        const what = d.recurrence === 'monthly' ? `monthly voucher ${d.voucherId}, ${d.period}` : `voucher ${d.voucherId}`;
        line(v, { type: 'credit', description: `Credit ${yuan(d.amount)} from ${what}`, amount: quantity(0, d.amount), credit_id: d.creditId });
        break;
      }
      case 'AdjustmentGranted': {
        const d = event.data;
        line(v, {
          type: 'adjustment',
          description: `Adjustment ${yuan(d.amount)} by ${d.operator}${d.expiresAt ? `, expires ${d.expiresAt}` : ''}`,
          amount: quantity(0, d.amount),
          credit_id: d.creditId,
          reason: d.reason,
        });
        break;
      }
      case 'HoldPlaced': {
        const d = event.data;
        const fen = (d.credits ?? []).reduce((sum, c) => sum + c.amount, 0);
        line(v, {
          type: 'hold',
          description: `Hold for ${d.jobId}: ${d.seconds} s × ${d.gpuCount} GPU, ${both(d.trialGpuSeconds, fen)}`,
          amount: quantity(0, 0),
          job_id: d.jobId,
        });
        break;
      }
      case 'HoldSettled': {
        const d = event.data;
        const hold = before.status === 'open' ? before.holds[d.jobId] : undefined;
        const heldFen = (hold?.credits ?? []).reduce((sum, c) => sum + c.amount, 0);
        const chargedFen = (d.creditsCharged ?? []).reduce((sum, c) => sum + c.amount, 0);
        line(`${v}.1`, {
          type: 'charge',
          description: `Charge for ${d.jobId}: ${d.runSeconds} s run, ${both(d.trialGpuSecondsCharged, chargedFen)}`,
          amount: quantity(-d.trialGpuSecondsCharged, -chargedFen),
          held_after: quantity(heldTrialGpuSeconds(before) - d.trialGpuSecondsCharged, heldCreditAmount(before) - chargedFen),
          job_id: d.jobId,
        });
        line(`${v}.2`, {
          type: 'release',
          description: `Release of ${d.jobId}'s unused hold: ${both(d.trialGpuSecondsReleased, heldFen - chargedFen)}`,
          amount: quantity(0, 0),
          job_id: d.jobId,
        });
        break;
      }
      case 'AccountSuspended':
        line(v, { type: 'suspended', description: `Suspended by ${event.data.operator}`, amount: quantity(0, 0), reason: event.data.reason });
        break;
      case 'AccountReactivated':
        line(v, { type: 'reactivated', description: `Reactivated by ${event.data.operator}`, amount: quantity(0, 0), reason: event.data.reason });
        break;
      case 'BalanceLow':
        break;
      default: {
        const unknown: never = event;
        return unknown;
      }
    }
  }
  return lines;
}
