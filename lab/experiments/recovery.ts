import type { Experiment } from '../core/experiment.js';

// PLACEHOLDER: replaced by the real experiment before anything is committed.
export const recovery: Experiment = {
  name: 'recovery',
  title: 'recovery',
  summary: 'not built yet',
  options: [],
  async run() {
    throw new Error('recovery: not built yet');
  },
};
