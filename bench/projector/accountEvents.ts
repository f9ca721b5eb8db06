import { randomUUID } from 'node:crypto';

/** A stream of the example domain's `account` category, as the pre-load and the freshness load write it. */
export interface StreamState {
  name: string;
  id: string;
  partition: number;
  next: number;
  currency: string;
}

export const CURRENCIES = ['EUR', 'EUR', 'EUR', 'USD', 'GBP', 'CHF'];

/** The example domain: an account opens (version 0), then money moves in and out, sometimes as part of a transfer. */
export function accountEvent(s: StreamState, version: number): { type: string; data: Record<string, unknown> } {
  if (version === 0) {
    return {
      type: 'AccountOpened',
      data: { accountId: s.id, owner: `customer-${(Number(s.id) * 7919) % 100_003}`, currency: s.currency },
    };
  }
  const r = Math.random();
  const amount = 100 + Math.floor(Math.random() * 250_000);
  const transferId = r < 0.15 ? randomUUID() : null;
  return r < 0.6 || r > 0.95
    ? { type: 'MoneyDeposited', data: { amount, currency: s.currency, transferId } }
    : { type: 'MoneyWithdrawn', data: { amount, currency: s.currency, transferId } };
}
