import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../pipeline/config/config.js';
import { uniqueName } from '../../test/support/names.js';
import { stack } from '../../test/support/stack.js';
import { PostgresMessageStore, PostgresWrongExpectedVersionError } from './messageStore.js';
import { reachablePostgresUrl } from './postgresUrl.js';

describe('PostgresMessageStore (message-db style, real Postgres)', () => {
  let store: PostgresMessageStore;

  beforeAll(async () => {
    const url = await reachablePostgresUrl({ POSTGRES_URL: stack().postgresUrl ?? loadConfig().POSTGRES_URL });
    store = await PostgresMessageStore.open(url, { schema: uniqueName('ms').toLowerCase(), poolSize: 4 });
  });

  afterAll(async () => {
    await store?.drop();
    await store?.close();
  });

  it('appends at the next position and reads the stream back in order', async () => {
    const stream = uniqueName('account');
    expect(await store.streamVersion(stream)).toBeNull();
    expect(await store.writeMessage(stream, 'Opened', { owner: 'Ada' }, -1)).toBe(0);
    expect(await store.writeMessage(stream, 'Deposited', { amount: 5 }, 0)).toBe(1);
    expect(await store.writeMessage(stream, 'Deposited', { amount: 7 }, null)).toBe(2);
    expect(
      await store.writeMessages(
        stream,
        [
          { type: 'A', data: 1 },
          { type: 'B', data: [2] },
        ],
        2,
      ),
    ).toBe(4);
    expect(await store.streamVersion(stream)).toBe(4);

    const read = await store.readStream(stream);
    expect(read.map((m) => [m.position, m.type, m.data])).toEqual([
      [0, 'Opened', { owner: 'Ada' }],
      [1, 'Deposited', { amount: 5 }],
      [2, 'Deposited', { amount: 7 }],
      [3, 'A', 1],
      [4, 'B', [2]],
    ]);
    const globals = read.map((m) => m.globalPosition);
    expect(globals).toEqual([...globals].sort((a, b) => a - b));
    expect((await store.readStream(stream, 3, 1)).map((m) => m.position)).toEqual([3]);
  });

  it('refuses a wrong expected version with the stream and its version, and writes nothing', async () => {
    const stream = uniqueName('account');
    await store.writeMessage(stream, 'Opened', {}, -1);

    const refused = await store.writeMessage(stream, 'Opened', {}, -1).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(PostgresWrongExpectedVersionError);
    expect(refused).toMatchObject({ stream, expected: -1, actual: 0, retriable: false });

    // A batch refused part-way (its first message expects 5) leaves nothing behind either.
    const batch = await store
      .writeMessages(
        stream,
        [
          { type: 'X', data: 1 },
          { type: 'Y', data: 2 },
        ],
        5,
      )
      .catch((e: unknown) => e);
    expect(batch).toMatchObject({ stream, expected: 5, actual: 0 });
    expect(await store.streamVersion(stream)).toBe(0);
    expect(await store.readStream(stream)).toHaveLength(1);
  });

  it('lets exactly one of two concurrent writers at the same expected version win', async () => {
    for (let round = 0; round < 5; round++) {
      const stream = uniqueName('hot');
      await store.writeMessage(stream, 'Opened', {}, -1);
      const outcomes = await Promise.allSettled([
        store.writeMessage(stream, 'Won', { writer: 'a' }, 0),
        store.writeMessages(stream, [{ type: 'Won', data: { writer: 'b' } }], 0),
      ]);
      const won = outcomes.filter((o) => o.status === 'fulfilled');
      const lost = outcomes.flatMap((o) => (o.status === 'rejected' ? [o.reason as unknown] : []));
      expect(won).toHaveLength(1);
      expect(lost).toHaveLength(1);
      expect(lost[0]).toMatchObject({ expected: 0, actual: 1 });
      const read = await store.readStream(stream);
      expect(read.map((m) => m.position)).toEqual([0, 1]);
    }
  });
});
