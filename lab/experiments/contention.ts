import type { Experiment } from '../core/experiment.js';

// PLACEHOLDER: replaced by the real experiment before anything is committed.
export const contention: Experiment = {
  name: 'contention',
  title: 'contention',
  summary: 'not built yet',
  options: [],
  async run() {
    throw new Error('contention: not built yet');
  },
};
