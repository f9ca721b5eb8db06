import type { Say } from './demoOptions.js';
import type { DemoServices } from './demoServices.js';

/**
 * Runs the demo with its services stopped on the way out. The services run in their own process groups (so --keep
 * can leave them running): Ctrl-C reaches only this process, which must stop them itself. A failure stops them too,
 * --keep or not.
 */
export async function withServices<T>(
  services: DemoServices,
  keep: boolean,
  say: Say,
  run: () => Promise<T>,
): Promise<T> {
  const interrupted = () => {
    say(keep ? 'interrupted: the services keep running (--keep)' : 'interrupted: stopping the services');
    void (keep ? Promise.resolve(services.detach()) : services.stopAll()).finally(() => process.exit(130));
  };
  process.once('SIGINT', interrupted);
  process.once('SIGTERM', interrupted);
  try {
    return await run();
  } catch (error) {
    await services.stopAll();
    throw error;
  } finally {
    process.off('SIGINT', interrupted);
    process.off('SIGTERM', interrupted);
  }
}

/** After a run: lets the services outlive the demo (--keep), or stops them and says the stack stays up. */
export async function releaseServices(
  services: DemoServices,
  keep: boolean,
  stackStarted: boolean,
  say: Say,
): Promise<void> {
  if (keep) {
    services.detach();
    return;
  }
  await services.stopAll();
  if (stackStarted) say('the demo started the stack: it stays up for the report commands (`kes stack down` stops it)');
}
