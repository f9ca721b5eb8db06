import type { Experiment } from '../core/experiment.js';

// PLACEHOLDER: replaced by the real experiment before anything is committed.
export const coldRead: Experiment = {
  name: 'cold-read',
  title: 'cold-read',
  summary: 'not built yet',
  options: [],
  async run() {
    throw new Error('cold-read: not built yet');
  },
};
