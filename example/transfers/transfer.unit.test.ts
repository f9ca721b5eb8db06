import { describe, it } from 'vitest';
import { deciderSpec } from '../../guard/commands/deciderSpec.js';
import { type TransferEvent, transferModule } from './transfer.js';

const spec = deciderSpec(transferModule, 't1');
const money = { transferId: 't1', amount: 30, currency: 'EUR' };
const requested: TransferEvent = { type: 'TransferRequested', data: { ...money, from: 'a', to: 'b' } };
const debited: TransferEvent = { type: 'TransferDebited', data: { ...money, accountId: 'a' } };
const credited: TransferEvent = { type: 'TransferCredited', data: { ...money, accountId: 'b' } };
const completed: TransferEvent = { type: 'TransferCompleted', data: { transferId: 't1' } };
const failed: TransferEvent = { type: 'TransferFailed', data: { transferId: 't1', reason: 'r' } };

describe('transfer decider', () => {
  it('is requested once, between two different accounts', () => {
    spec
      .given([])
      .when({ type: 'request', data: { from: 'a', to: 'b', amount: 30, currency: 'EUR' } })
      .thenDecides([requested]);
    spec
      .given([requested])
      .when({ type: 'request', data: { from: 'a', to: 'b', amount: 30, currency: 'EUR' } })
      .thenRejects('transfer_exists');
    spec
      .given([])
      .when({ type: 'request', data: { from: 'a', to: 'a', amount: 30, currency: 'EUR' } })
      .thenRejects('same_account');
  });

  it('records each step once, in order', () => {
    spec.given([requested]).when({ type: 'recordDebit', data: {} }).thenDecides([debited]);
    spec.given([requested, debited]).when({ type: 'recordDebit', data: {} }).thenNothing();
    spec.given([requested, debited]).when({ type: 'recordCredit', data: {} }).thenDecides([credited]);
    spec.given([requested, debited, credited]).when({ type: 'complete', data: {} }).thenDecides([completed]);
    spec.given([requested, debited, credited, completed]).when({ type: 'recordDebit', data: {} }).thenNothing();
    spec.given([requested]).when({ type: 'recordCredit', data: {} }).thenRejects('invalid_state');
    spec.given([]).when({ type: 'recordDebit', data: {} }).thenRejects('transfer_not_found');
  });

  it('fails only before the credit, once; a failed transfer ignores later steps', () => {
    spec
      .given([requested])
      .when({ type: 'fail', data: { reason: 'r' } })
      .thenDecides([failed]);
    spec
      .given([requested, debited])
      .when({ type: 'fail', data: { reason: 'r' } })
      .thenDecides([failed]);
    spec
      .given([requested, debited, credited])
      .when({ type: 'fail', data: { reason: 'r' } })
      .thenRejects('invalid_state');
    spec
      .given([requested, failed])
      .when({ type: 'fail', data: { reason: 'r' } })
      .thenNothing();
    spec.given([requested, failed]).when({ type: 'recordDebit', data: {} }).thenNothing();
    spec.given([requested, debited, failed]).when({ type: 'recordCredit', data: {} }).thenNothing();
  });
});
