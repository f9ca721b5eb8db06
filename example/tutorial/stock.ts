// Step 2 of docs/tutorial.md: a decider module. Compiled, this file is what `kes guard --modules` loads.
import { anyModule, type CommandModule, reject } from 'kes';
import { z } from 'zod';

export type StockEvent =
  | { type: 'StockReceived'; data: { sku: string; quantity: number } }
  | { type: 'StockShipped'; data: { sku: string; quantity: number; order: string } };

export type StockCommand =
  | { type: 'receive'; data: { quantity: number } }
  | { type: 'ship'; data: { quantity: number; order: string } };

export interface Stock {
  onHand: number;
}

export const stockModule: CommandModule<Stock, StockCommand, StockEvent> = {
  category: 'stock', // streams stock-<sku>, on the topic of category `stock`
  service: 'warehouse',
  stateVersion: 1, // bump when evolve or the state's shape changes
  commands: {
    receive: z.object({ quantity: z.number().int().positive() }),
    ship: z.object({ quantity: z.number().int().positive(), order: z.string().min(1) }),
  },
  initialState: () => ({ onHand: 0 }),
  evolve(state, event) {
    switch (event.type) {
      case 'StockReceived':
        return { onHand: state.onHand + event.data.quantity };
      case 'StockShipped':
        return { onHand: state.onHand - event.data.quantity };
    }
  },
  decide(command, state, sku) {
    switch (command.type) {
      case 'receive':
        return [{ type: 'StockReceived', data: { sku, quantity: command.data.quantity } }];
      case 'ship':
        if (command.data.quantity > state.onHand) {
          reject('insufficient_stock', `stock-${sku}: ${state.onHand} on hand, ${command.data.quantity} asked`);
        }
        return [{ type: 'StockShipped', data: { sku, ...command.data } }];
    }
  },
};

/** What `kes guard --modules` reads: the modules this file hosts. */
export const modules = [anyModule(stockModule)];
