// Step 2 of docs/tutorial.md: the decider's tests, with kes's given/when/then helper (no service needed).
import { deciderSpec } from 'kes';
import { describe, it } from 'vitest';
import { stockModule } from './stock.js';

const spec = deciderSpec(stockModule, 'sku-1');
const received = (quantity: number) => ({ type: 'StockReceived' as const, data: { sku: 'sku-1', quantity } });

describe('stock', () => {
  it('receives stock', () => {
    spec
      .given([])
      .when({ type: 'receive', data: { quantity: 5 } })
      .thenDecides([received(5)]);
  });

  it('ships what is on hand', () => {
    spec
      .given([received(5)])
      .when({ type: 'ship', data: { quantity: 3, order: 'o-1' } })
      .thenDecides([{ type: 'StockShipped', data: { sku: 'sku-1', quantity: 3, order: 'o-1' } }]);
  });

  it('refuses to ship more than is on hand', () => {
    spec
      .given([received(2)])
      .when({ type: 'ship', data: { quantity: 3, order: 'o-1' } })
      .thenRejects('insufficient_stock');
  });
});
