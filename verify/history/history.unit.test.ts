import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { UsageError } from '../../pipeline/errors.js';
import { type AppendAttempt, HistoryWriter, readHistory } from './history.js';

const dir = mkdtempSync(join(tmpdir(), 'kes-history-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function attempt(i: number): AppendAttempt {
  const outcomes: AppendAttempt['outcome'][] = [
    { status: 'ok', firstVersion: i, lastVersion: i + 1, topic: 'kes.events.acct', partition: 3, offset: 10 * i },
    { status: 'conflict', actual: -1 },
    { status: 'rejected', httpStatus: 503, code: 'not_ready' },
    { status: 'indeterminate', reason: 'timeout after 5000 ms' },
  ];
  return {
    op: 'append',
    client: `w${i % 7}`,
    stream: `acct-${i % 100}`,
    expectedVersion: i % 2 === 0 ? i : 'no_stream',
    eventIds: [`id-${i}-a`, `id-${i}-b`],
    attempt: 1 + (i % 3),
    startMs: 1_700_000_000_000 + i,
    endMs: 1_700_000_000_005 + i,
    outcome: outcomes[i % outcomes.length] ?? { status: 'indeterminate', reason: '' },
  };
}

describe('history log', () => {
  it('writes attempts as JSON lines and reads them back', async () => {
    const path = join(dir, 'nested', 'roundtrip.jsonl');
    const writer = new HistoryWriter(path);
    const written = Array.from({ length: 50_000 }, (_, i) => attempt(i));
    const began = Date.now();
    for (const a of written) writer.record(a);
    await writer.close();
    // Thousands per second is the requirement; this is a generous bound for a loaded CI machine.
    expect(Date.now() - began).toBeLessThan(5_000);
    expect(readFileSync(path, 'utf8').split('\n')).toHaveLength(50_001);
    expect(readHistory(path)).toEqual(written);
  });

  it('appends to an existing file, and writers sharing a file keep lines whole', async () => {
    const path = join(dir, 'shared.jsonl');
    const a = new HistoryWriter(path, { flushBytes: 1000 });
    const b = new HistoryWriter(path, { flushBytes: 700 });
    for (let i = 0; i < 2000; i++) (i % 2 === 0 ? a : b).record(attempt(i));
    await a.close();
    await b.close();
    const again = new HistoryWriter(path);
    again.record(attempt(2000));
    await again.close();
    const read = readHistory(path);
    expect(read).toHaveLength(2001);
    expect(new Set(read.map((r) => r.startMs)).size).toBe(2001);
  });

  it('refuses records after close', async () => {
    const writer = new HistoryWriter(join(dir, 'closed.jsonl'));
    await writer.close();
    expect(() => writer.record(attempt(1))).toThrow(/closed/);
    await writer.close();
  });

  it('skips blank lines and names the file and line of a bad one', () => {
    const path = join(dir, 'bad.jsonl');
    const good = JSON.stringify(attempt(1));
    writeFileSync(path, `${good}\n\n${good}\n{"op":"append"\n`);
    expect(() => readHistory(path)).toThrow(`${path}:4: not JSON`);

    const wrongStatus = { ...attempt(2), outcome: { status: 'maybe' } };
    writeFileSync(path, `${good}\n${JSON.stringify(wrongStatus)}\n`);
    expect(() => readHistory(path)).toThrow(new RegExp(`${path}:2: outcome\\.status`));

    const noIds = { ...attempt(2), eventIds: 'x' };
    writeFileSync(path, `${JSON.stringify(noIds)}`);
    expect(() => readHistory(path)).toThrow(`${path}:1: eventIds`);

    const backwards = { ...attempt(2), startMs: 10, endMs: 5 };
    writeFileSync(path, `${good}\n${JSON.stringify(backwards)}\n`);
    expect(() => readHistory(path)).toThrow(`${path}:2: endMs 5 is before startMs 10`);

    writeFileSync(path, `${good}\n\n${good}`); // no newline at the end
    expect(readHistory(path)).toHaveLength(2);
  });

  it('says which file it cannot read', () => {
    const missing = join(dir, 'missing.jsonl');
    expect(() => readHistory(missing)).toThrow(UsageError);
    expect(() => readHistory(missing)).toThrow(`cannot read history ${missing}`);
  });
});
