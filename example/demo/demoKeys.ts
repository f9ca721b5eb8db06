import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LOCAL_DEV_KEY } from '../../pipeline/config/config.js';

export interface DemoKeys {
  /** The keys file the guards read (`KES_API_KEYS=@<file>`). */
  file: string;
  teller: string;
  transfers: string;
}

/**
 * One key per service, each with its authority: the accounts service owns `account`; the transfers service owns
 * `transfer` and may command accounts; the bank's tellers (the workload) only send commands. The local key stays, so
 * the README's examples work against the demo's guard.
 */
export function writeDemoKeys(dir: string): DemoKeys {
  const key = (name: string) => `${name}-${randomBytes(12).toString('hex')}`;
  const keys = { teller: key('teller'), transfers: key('transfers'), accounts: key('accounts') };
  const file = join(dir, 'api-keys.json');
  writeFileSync(
    file,
    JSON.stringify(
      [
        { key: keys.teller, service: 'teller', categories: ['teller'], commands: ['account', 'transfer'] },
        { key: keys.accounts, service: 'accounts', categories: ['account'] },
        { key: keys.transfers, service: 'transfers', categories: ['transfer'], commands: ['account'] },
        { key: LOCAL_DEV_KEY, service: 'local-dev', categories: ['*'] },
      ],
      null,
      2,
    ),
    { mode: 0o600 },
  );
  return { file, teller: keys.teller, transfers: keys.transfers };
}
