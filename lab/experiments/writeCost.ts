import type { Experiment } from '../core/experiment.js';

// PLACEHOLDER: replaced by the real experiment before anything is committed.
export const writeCost: Experiment = {
  name: 'write-cost',
  title: 'write-cost',
  summary: 'not built yet',
  options: [],
  async run() {
    throw new Error('write-cost: not built yet');
  },
};
