import { describe, expect, it } from 'vitest';
import type { ClickHouseEngine } from '../../pipeline/clickhouse/engine.js';
import { ServerEngine } from '../../pipeline/clickhouse/serverEngine.js';
import { ConfigError } from '../../pipeline/errors.js';
import { stack } from '../../test/support/stack.js';
import { assertSupportedEngine } from './engineVersion.js';

const engineAt = (version: string, kind: ClickHouseEngine['kind'] = 'server') =>
  ({ kind, version: async () => version }) as unknown as ClickHouseEngine;

describe('supported ClickHouse versions', () => {
  it('takes 23.8 and newer, refuses older ones naming the setting', async () => {
    await expect(assertSupportedEngine(engineAt('26.7.2.1'))).resolves.toBe('26.7.2.1');
    await expect(assertSupportedEngine(engineAt('23.8.16.16'))).resolves.toBe('23.8.16.16');
    await expect(assertSupportedEngine(engineAt('23.3.1'))).rejects.toThrow(
      /^CLICKHOUSE_URL: ClickHouse 23\.3\.1 is too old for the read models \(kes needs 23\.8 or newer/,
    );
    await expect(assertSupportedEngine(engineAt('18.16.1'))).rejects.toBeInstanceOf(ConfigError);
  });

  it.runIf(stack().clickhouseServerUrl)(
    'refuses the stack’s old ClickHouse server (18.16) before any statement',
    async () => {
      const engine = new ServerEngine(stack().clickhouseServerUrl as string);
      try {
        await expect(assertSupportedEngine(engine)).rejects.toThrow(/too old for the read models/);
      } finally {
        await engine.close();
      }
    },
  );
});
