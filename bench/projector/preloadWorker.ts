/** A pre-load worker thread (see preloadInWorker): its share of the producers; progress and the tally go back to the main thread. */
import { parentPort, workerData } from 'node:worker_threads';
import { type PreloadWork, runPreloadProducers } from './preloadProducers.js';

runPreloadProducers(workerData as PreloadWork, (committed) => parentPort?.postMessage({ committed })).then(
  (done) => parentPort?.postMessage({ done }),
  (error: unknown) => parentPort?.postMessage({ error: error instanceof Error ? error.message : String(error) }),
);
