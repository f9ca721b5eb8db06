import { z } from 'zod';
import { type CommandModule, reject } from '../../guard/commands/decider.js';
import { CommandRejectedError } from '../../pipeline/errors.js';

/**
 * The accounts service's module: stream `account-<accountId>`.
 *
 * Rules: a balance never goes below zero; a closed account takes no money; an account closes only at a zero
 * balance with no transfer still holding a debit of it (so a refund always has an open account to return to).
 * Amounts are integers in minor units (cents) of the account's currency.
 *
 * Transfer steps are idempotent here, by transfer id: the process manager may deliver a step twice (a redelivered
 * event after a crash, a zombie) and money moves once. `debited`/`credited` remember which transfers moved money,
 * `refused` which steps were refused; `openDebits` holds each debit until the transfer settles it (credit done) or
 * refunds it (credit refused).
 */
export type AccountStatus = 'none' | 'open' | 'closed';

export interface AccountState {
  status: AccountStatus;
  owner: string;
  currency: string;
  balance: number;
  /** transfer id -> amount debited and not yet settled or refunded */
  openDebits: Record<string, number>;
  /** transfer ids this account was debited by, or credited by */
  debited: Record<string, true>;
  credited: Record<string, true>;
  /** `<transferId>:debit|credit` -> the reason this account refused that step (recorded, so it stays refused) */
  refused: Record<string, string>;
}

export type AccountEvent =
  | { type: 'AccountOpened'; data: { accountId: string; owner: string; currency: string } }
  | { type: 'MoneyDeposited'; data: { amount: number; currency: string; transferId: string | null } }
  | { type: 'MoneyWithdrawn'; data: { amount: number; currency: string; transferId: string | null } }
  | { type: 'DebitSettled'; data: { transferId: string } }
  | { type: 'AccountClosed'; data: { reason: string | null } }
  | { type: 'TransferStepRefused'; data: { transferId: string; step: string; reason: string } };

const amount = z
  .number()
  .int('an integer amount in minor units')
  .positive('greater than zero')
  .max(Number.MAX_SAFE_INTEGER);
const currency = z.string().regex(/^[A-Z]{3}$/, 'an ISO 4217 code, three capital letters (EUR)');
const transferId = z.string().regex(/^[A-Za-z0-9_.:@-]{1,200}$/, '1 to 200 of letters, digits and _ . : @ -');

const commandSchemas = {
  open: z.strictObject({ owner: z.string().min(1).max(200), currency }),
  deposit: z.strictObject({ amount, currency, transferId: transferId.optional() }),
  withdraw: z.strictObject({ amount, currency, transferId: transferId.optional() }),
  refundDebit: z.strictObject({ transferId }),
  settleDebit: z.strictObject({ transferId }),
  close: z.strictObject({ reason: z.string().max(500).optional() }),
};

export type AccountCommand = {
  [K in keyof typeof commandSchemas]: { type: K; data: z.infer<(typeof commandSchemas)[K]> };
}[keyof typeof commandSchemas];

function mustBeOpen(state: AccountState): void {
  if (state.status === 'none') reject('account_not_found', 'the account is not open');
  if (state.status === 'closed') reject('account_closed', 'the account is closed: it takes no money');
}

function sameCurrency(state: AccountState, given: string): void {
  if (given !== state.currency) {
    reject('currency_mismatch', `the account holds ${state.currency}, not ${given}`);
  }
}

/**
 * A transfer's debit or credit is decided once. A refusal is recorded (TransferStepRefused), so the same step sent
 * again, by a redelivered event or a zombie process manager, is refused again even after money arrived or the
 * destination was opened: otherwise a failed transfer could still take money, or a refunded one still pay out.
 */
function transferStep(
  state: AccountState,
  transferId: string,
  step: 'debit' | 'credit',
  decide: () => AccountEvent[],
): AccountEvent[] {
  const refused = state.refused[`${transferId}:${step}`];
  if (refused !== undefined) reject(refused, `the ${step} of transfer ${transferId} was refused (${refused})`);
  try {
    return decide();
  } catch (error) {
    if (!(error instanceof CommandRejectedError)) throw error;
    reject(error.reason, error.message, [
      { type: 'TransferStepRefused', data: { transferId, step, reason: error.reason } },
    ]);
  }
}

export const accountModule: CommandModule<AccountState, AccountCommand, AccountEvent> = {
  category: 'account',
  service: 'accounts',
  stateVersion: 2,
  commands: commandSchemas,

  initialState: () => ({
    status: 'none',
    owner: '',
    currency: '',
    balance: 0,
    openDebits: {},
    debited: {},
    credited: {},
    refused: {},
  }),

  evolve(state, event) {
    switch (event.type) {
      case 'AccountOpened':
        return { ...state, status: 'open', owner: event.data.owner, currency: event.data.currency };
      case 'MoneyDeposited': {
        const t = event.data.transferId;
        const next = { ...state, balance: state.balance + event.data.amount };
        if (t === null) return next;
        if (t in state.openDebits) {
          // A refund: the transfer gives back what it took from this account.
          const { [t]: _refunded, ...openDebits } = state.openDebits;
          return { ...next, openDebits };
        }
        return { ...next, credited: { ...state.credited, [t]: true } };
      }
      case 'MoneyWithdrawn': {
        const t = event.data.transferId;
        const next = { ...state, balance: state.balance - event.data.amount };
        if (t === null) return next;
        return {
          ...next,
          openDebits: { ...state.openDebits, [t]: event.data.amount },
          debited: { ...state.debited, [t]: true },
        };
      }
      case 'DebitSettled': {
        const { [event.data.transferId]: _settled, ...openDebits } = state.openDebits;
        return { ...state, openDebits };
      }
      case 'AccountClosed':
        return { ...state, status: 'closed' };
      case 'TransferStepRefused':
        return {
          ...state,
          refused: { ...state.refused, [`${event.data.transferId}:${event.data.step}`]: event.data.reason },
        };
    }
  },

  decide(command, state, accountId) {
    switch (command.type) {
      case 'open':
        if (state.status !== 'none') reject('account_exists', 'the account is already open (or was closed)');
        return [
          { type: 'AccountOpened', data: { accountId, owner: command.data.owner, currency: command.data.currency } },
        ];
      case 'deposit': {
        const { amount, currency } = command.data;
        const t = command.data.transferId ?? null;
        const credit = (): AccountEvent[] => {
          mustBeOpen(state);
          sameCurrency(state, currency);
          return [{ type: 'MoneyDeposited', data: { amount, currency, transferId: t } }];
        };
        if (t === null) return credit();
        if (state.credited[t]) return []; // this transfer's credit is already here
        return transferStep(state, t, 'credit', credit);
      }
      case 'withdraw': {
        const { amount, currency } = command.data;
        const t = command.data.transferId ?? null;
        const debit = (): AccountEvent[] => {
          mustBeOpen(state);
          sameCurrency(state, currency);
          if (amount > state.balance) reject('insufficient_funds', `balance ${state.balance} is less than ${amount}`);
          return [{ type: 'MoneyWithdrawn', data: { amount, currency, transferId: t } }];
        };
        if (t === null) return debit();
        if (state.debited[t]) return []; // this transfer's debit is already taken
        return transferStep(state, t, 'debit', debit);
      }
      case 'refundDebit': {
        const t = command.data.transferId;
        const held = state.openDebits[t];
        if (held === undefined) {
          if (state.debited[t]) return []; // refunded or settled already
          reject('no_such_debit', `transfer ${t} never debited this account`);
        }
        // Never refused for a closed account: an account with an open debit cannot be closed.
        return [{ type: 'MoneyDeposited', data: { amount: held, currency: state.currency, transferId: t } }];
      }
      case 'settleDebit': {
        const t = command.data.transferId;
        if (state.openDebits[t] === undefined) {
          if (state.debited[t]) return [];
          reject('no_such_debit', `transfer ${t} never debited this account`);
        }
        return [{ type: 'DebitSettled', data: { transferId: t } }];
      }
      case 'close':
        if (state.status === 'closed') return [];
        mustBeOpen(state);
        if (state.balance !== 0) reject('balance_not_zero', `the balance is ${state.balance}; withdraw it first`);
        if (Object.keys(state.openDebits).length > 0) {
          reject('transfers_in_flight', `transfers still hold debits: ${Object.keys(state.openDebits).join(', ')}`);
        }
        return [{ type: 'AccountClosed', data: { reason: command.data.reason ?? null } }];
    }
  },
};
