import type { Experiment } from '../core/experiment.js';

// PLACEHOLDER: replaced by the real experiment before anything is committed.
export const projection: Experiment = {
  name: 'projection',
  title: 'projection',
  summary: 'not built yet',
  options: [],
  async run() {
    throw new Error('projection: not built yet');
  },
};
