import { z } from 'zod';
import { type CommandModule, reject } from '../../guard/commands/decider.js';

/**
 * The transfers service's module: stream `transfer-<transferId>`, one transfer between two accounts.
 *
 * The transfer records what happened; the accounts decide whether money may move (they are another service's
 * authority). Clients only `request`; the process manager (processManager.ts) records each step after the account
 * accepted or refused it. Steps already recorded are no-ops, so a step delivered twice records once.
 *
 *   requested --recordDebit--> debited --recordCredit--> credited --complete--> completed
 *   requested --fail--> failed            (the debit was refused: no money moved)
 *   debited   --fail--> failed            (the credit was refused: the debit was refunded first)
 */
export type TransferStatus = 'none' | 'requested' | 'debited' | 'credited' | 'completed' | 'failed';

export interface TransferState {
  status: TransferStatus;
  from: string;
  to: string;
  amount: number;
  currency: string;
}

export type TransferEvent =
  | {
      type: 'TransferRequested';
      data: { transferId: string; from: string; to: string; amount: number; currency: string };
    }
  | { type: 'TransferDebited'; data: { transferId: string; accountId: string; amount: number; currency: string } }
  | { type: 'TransferCredited'; data: { transferId: string; accountId: string; amount: number; currency: string } }
  | { type: 'TransferCompleted'; data: { transferId: string } }
  | { type: 'TransferFailed'; data: { transferId: string; reason: string } };

const accountId = z
  .string()
  .regex(/^[A-Za-z0-9_.:@-]{1,200}$/, 'an account id: 1 to 200 of letters, digits and _ . : @ -');

const commandSchemas = {
  request: z.strictObject({
    from: accountId,
    to: accountId,
    amount: z
      .number()
      .int('an integer amount in minor units')
      .positive('greater than zero')
      .max(Number.MAX_SAFE_INTEGER),
    currency: z.string().regex(/^[A-Z]{3}$/, 'an ISO 4217 code, three capital letters (EUR)'),
  }),
  recordDebit: z.strictObject({}),
  recordCredit: z.strictObject({}),
  complete: z.strictObject({}),
  fail: z.strictObject({ reason: z.string().min(1).max(500) }),
};

export type TransferCommand = {
  [K in keyof typeof commandSchemas]: { type: K; data: z.infer<(typeof commandSchemas)[K]> };
}[keyof typeof commandSchemas];

const ORDER: Record<TransferStatus, number> = {
  none: 0,
  requested: 1,
  debited: 2,
  credited: 3,
  completed: 4,
  failed: 4,
};

/** The step is recorded already (a redelivery): nothing to do. Before it: the transfer is not where the step applies. */
function step(state: TransferState, from: TransferStatus, to: TransferStatus): boolean {
  if (state.status === to || (ORDER[state.status] > ORDER[to] && state.status !== 'failed')) return false;
  if (state.status !== from) {
    if (state.status === 'none') reject('transfer_not_found', 'no such transfer');
    reject('invalid_state', `the transfer is ${state.status}, not ${from}`);
  }
  return true;
}

export const transferModule: CommandModule<TransferState, TransferCommand, TransferEvent> = {
  category: 'transfer',
  service: 'transfers',
  stateVersion: 1,
  commands: commandSchemas,

  initialState: () => ({ status: 'none', from: '', to: '', amount: 0, currency: '' }),

  evolve(state, event) {
    switch (event.type) {
      case 'TransferRequested':
        return {
          status: 'requested',
          from: event.data.from,
          to: event.data.to,
          amount: event.data.amount,
          currency: event.data.currency,
        };
      case 'TransferDebited':
        return { ...state, status: 'debited' };
      case 'TransferCredited':
        return { ...state, status: 'credited' };
      case 'TransferCompleted':
        return { ...state, status: 'completed' };
      case 'TransferFailed':
        return { ...state, status: 'failed' };
    }
  },

  decide(command, state, transferId) {
    const money = { transferId, amount: state.amount, currency: state.currency };
    switch (command.type) {
      case 'request':
        if (state.status !== 'none') reject('transfer_exists', `transfer ${transferId} was already requested`);
        if (command.data.from === command.data.to) reject('same_account', 'from and to are the same account');
        return [{ type: 'TransferRequested', data: { transferId, ...command.data } }];
      // On a failed transfer the steps are over: a redelivered step changes nothing.
      case 'recordDebit':
        if (state.status === 'failed') return [];
        return step(state, 'requested', 'debited')
          ? [{ type: 'TransferDebited', data: { ...money, accountId: state.from } }]
          : [];
      case 'recordCredit':
        if (state.status === 'failed') return [];
        return step(state, 'debited', 'credited')
          ? [{ type: 'TransferCredited', data: { ...money, accountId: state.to } }]
          : [];
      case 'complete':
        if (state.status === 'failed') return [];
        return step(state, 'credited', 'completed') ? [{ type: 'TransferCompleted', data: { transferId } }] : [];
      case 'fail':
        if (state.status === 'failed') return [];
        if (state.status !== 'requested' && state.status !== 'debited') {
          if (state.status === 'none') reject('transfer_not_found', 'no such transfer');
          reject('invalid_state', `the transfer is ${state.status}: it can no longer fail`);
        }
        return [{ type: 'TransferFailed', data: { transferId, reason: command.data.reason } }];
    }
  },
};
