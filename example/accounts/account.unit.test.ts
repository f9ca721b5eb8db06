import { describe, it } from 'vitest';
import { deciderSpec } from '../../guard/commands/deciderSpec.js';
import { type AccountEvent, accountModule } from './account.js';

const spec = deciderSpec(accountModule, 'a1');
const opened: AccountEvent = { type: 'AccountOpened', data: { accountId: 'a1', owner: 'ada', currency: 'EUR' } };
const deposited = (amount: number, transferId: string | null = null): AccountEvent => ({
  type: 'MoneyDeposited',
  data: { amount, currency: 'EUR', transferId },
});
const withdrawn = (amount: number, transferId: string | null = null): AccountEvent => ({
  type: 'MoneyWithdrawn',
  data: { amount, currency: 'EUR', transferId },
});
const refused = (transferId: string, step: string, reason: string): AccountEvent => ({
  type: 'TransferStepRefused',
  data: { transferId, step, reason },
});

describe('account decider', () => {
  it('opens once, with the stream id as the account id', () => {
    spec
      .given([])
      .when({ type: 'open', data: { owner: 'ada', currency: 'EUR' } })
      .thenDecides([opened]);
    spec
      .given([opened])
      .when({ type: 'open', data: { owner: 'ada', currency: 'EUR' } })
      .thenRejects('account_exists');
  });

  it('never lets a balance go below zero', () => {
    spec
      .given([opened, deposited(100)])
      .when({ type: 'withdraw', data: { amount: 100, currency: 'EUR' } })
      .thenDecides([withdrawn(100)]);
    spec
      .given([opened, deposited(100)])
      .when({ type: 'withdraw', data: { amount: 101, currency: 'EUR' } })
      .thenRejects('insufficient_funds');
  });

  it('takes no money on an account that is not open, or in another currency', () => {
    spec
      .given([])
      .when({ type: 'deposit', data: { amount: 1, currency: 'EUR' } })
      .thenRejects('account_not_found');
    const closed: AccountEvent = { type: 'AccountClosed', data: { reason: null } };
    spec
      .given([opened, closed])
      .when({ type: 'deposit', data: { amount: 1, currency: 'EUR' } })
      .thenRejects('account_closed');
    spec
      .given([opened])
      .when({ type: 'deposit', data: { amount: 1, currency: 'USD' } })
      .thenRejects('currency_mismatch');
  });

  it('closes only at zero, with no transfer holding a debit', () => {
    spec
      .given([opened, deposited(5)])
      .when({ type: 'close', data: {} })
      .thenRejects('balance_not_zero');
    spec
      .given([opened, deposited(5), withdrawn(5, 't1')])
      .when({ type: 'close', data: {} })
      .thenRejects('transfers_in_flight');
    spec
      .given([opened, deposited(5), withdrawn(5, 't1'), { type: 'DebitSettled', data: { transferId: 't1' } }])
      .when({ type: 'close', data: {} })
      .thenDecides([{ type: 'AccountClosed', data: { reason: null } }]);
  });

  it("moves a transfer's money once: a repeated debit or credit decides nothing", () => {
    spec
      .given([opened, deposited(50), withdrawn(30, 't1')])
      .when({ type: 'withdraw', data: { amount: 30, currency: 'EUR', transferId: 't1' } })
      .thenNothing();
    spec
      .given([opened, deposited(30, 't2')])
      .when({ type: 'deposit', data: { amount: 30, currency: 'EUR', transferId: 't2' } })
      .thenNothing();
  });

  it('records a refused transfer step, and refuses it again after the balance changed', () => {
    spec
      .given([opened, deposited(10)])
      .when({ type: 'withdraw', data: { amount: 30, currency: 'EUR', transferId: 't1' } })
      .thenRejects('insufficient_funds', [refused('t1', 'debit', 'insufficient_funds')]);
    spec
      .given([opened, deposited(10), refused('t1', 'debit', 'insufficient_funds'), deposited(1_000)])
      .when({ type: 'withdraw', data: { amount: 30, currency: 'EUR', transferId: 't1' } })
      .thenRejects('insufficient_funds');
    // A credit refused because the account did not exist stays refused once it is opened.
    spec
      .given([])
      .when({ type: 'deposit', data: { amount: 30, currency: 'EUR', transferId: 't3' } })
      .thenRejects('account_not_found', [refused('t3', 'credit', 'account_not_found')]);
    spec
      .given([refused('t3', 'credit', 'account_not_found'), opened])
      .when({ type: 'deposit', data: { amount: 30, currency: 'EUR', transferId: 't3' } })
      .thenRejects('account_not_found');
  });

  it('refunds exactly the held debit, once; settles once', () => {
    const held = [opened, deposited(50), withdrawn(30, 't1')];
    spec
      .given(held)
      .when({ type: 'refundDebit', data: { transferId: 't1' } })
      .thenDecides([deposited(30, 't1')]);
    spec
      .given([...held, deposited(30, 't1')])
      .when({ type: 'refundDebit', data: { transferId: 't1' } })
      .thenNothing();
    spec
      .given(held)
      .when({ type: 'settleDebit', data: { transferId: 't1' } })
      .thenDecides([{ type: 'DebitSettled', data: { transferId: 't1' } }]);
    spec
      .given([opened])
      .when({ type: 'refundDebit', data: { transferId: 't9' } })
      .thenRejects('no_such_debit');
  });
});
