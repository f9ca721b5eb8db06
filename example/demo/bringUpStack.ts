import { stackStatus, stackUp } from '../../devstack/stack.js';
import { loadConfig } from '../../pipeline/config/config.js';
import type { Say } from './demoOptions.js';

/**
 * `kes stack up` for the demo. Answers whether the demo started the stack (it was not up before), so the demo can say
 * at the end that the stack stays up.
 */
export async function bringUpStack(home: string | undefined, say: Say): Promise<boolean> {
  const before = loadConfig({ overrides: { KES_HOME: home }, ignoreStackEnv: true });
  const wasUp = await stackStatus(before).then(
    (rows) => rows.length > 0 && rows.every((r) => r.state === 'up' || r.state === 'absent'),
    () => false,
  );
  const { mode } = await stackUp(before, say);
  say(`stack: up (${mode})`);
  return !wasUp;
}
