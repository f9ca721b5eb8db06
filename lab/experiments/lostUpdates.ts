import type { Experiment } from '../core/experiment.js';

// PLACEHOLDER: replaced by the real experiment before anything is committed.
export const lostUpdates: Experiment = {
  name: 'lost-updates',
  title: 'lost-updates',
  summary: 'not built yet',
  options: [],
  async run() {
    throw new Error('lost-updates: not built yet');
  },
};
