import { describe, expect, it } from 'vitest';
import { encodeHeaders } from '../../pipeline/events/eventRecord.js';
import type { HeaderRecords } from '../../pipeline/kafka/headerReader.js';
import { idCheck, idField } from '../protocol/idWindow.js';
import { chunksOf, emptyFold, foldRecords, READ_BACK_HEADERS, versionPairs } from './readBackRecord.js';

const NOW = 1_700_000_000_000;

function event(id: string, stream: string, version: number, timeMs = NOW): Record<string, string> {
  return encodeHeaders({ stream, version, eventId: id, type: 'MoneyDeposited', timeMs, contentHash: `h-${id}` });
}

/** Records as the header reader hands them over: offsets and one column per READ_BACK_HEADERS name. */
function records(list: { offset: number; headers: Record<string, string | undefined> }[]): HeaderRecords {
  return {
    topic: 'kes.events.account',
    partition: 3,
    offsets: list.map((r) => r.offset),
    values: READ_BACK_HEADERS.map((names) =>
      list.map((r) =>
        typeof names === 'string' ? r.headers[names] : names.map((n) => r.headers[n]).find((v) => v !== undefined),
      ),
    ),
  };
}

describe('foldRecords', () => {
  it('keeps the highest version per stream, whatever the order, and counts the events', () => {
    const fold = emptyFold();
    foldRecords(
      fold,
      records([
        { offset: 10, headers: event('a', 'account-1', 0) },
        { offset: 11, headers: event('b', 'account-2', 0) },
        { offset: 12, headers: event('c', 'account-1', 1) },
      ]),
      0,
    );
    foldRecords(fold, records([{ offset: 13, headers: event('d', 'account-1', 2) }]), 0);
    expect(Object.fromEntries(fold.versions)).toEqual({ 'account-1': 2, 'account-2': 0 });
    expect(fold.events).toBe(4);
    expect(versionPairs(fold)).toEqual(['account-1', '2', 'account-2', '0']);
  });

  it('reads a record an older kes wrote (kes-stream, kes-event-id, kes-type, kes-time in epoch ms) as the same event', () => {
    const legacy = {
      'kes-stream': 'account-7',
      'kes-version': '12',
      'kes-event-id': 'e-1',
      'kes-type': 'MoneyDeposited',
      'kes-time': String(NOW),
      'kes-hash': 'h-e-1',
    };
    const fold = emptyFold();
    expect(foldRecords(fold, records([{ offset: 345, headers: legacy }]), 0)).toEqual(
      foldRecords(emptyFold(), records([{ offset: 345, headers: event('e-1', 'account-7', 12) }]), 0),
    );
    expect(fold.versions.get('account-7')).toBe(12);
  });

  it('gives each event its idempotency entry as confirm writes it, with its event time (not the time read)', () => {
    const entries = foldRecords(emptyFold(), records([{ offset: 345, headers: event('e-1', 'account-7', 12) }]), 0);
    expect(entries).toEqual([idField('e-1'), idCheck('account-7', 'h-e-1'), 12, 345, NOW, 1]);
  });

  it('lets a new generation start only where an append cannot go on: another stream, or not the next offset', () => {
    const fold = emptyFold();
    const boundaries = (list: { offset: number; headers: Record<string, string> }[]) =>
      foldRecords(fold, records(list), 0).filter((_, i) => i % 6 === 5);
    expect(
      boundaries([
        { offset: 10, headers: event('a', 'account-1', 0) },
        { offset: 11, headers: event('b', 'account-1', 1) },
        { offset: 12, headers: event('c', 'account-2', 0) },
        // a commit marker at 13: another transaction
        { offset: 14, headers: event('d', 'account-2', 1) },
      ]),
    ).toEqual([1, 0, 1, 1]);
    // carried over from one fetch to the next
    expect(boundaries([{ offset: 15, headers: event('e', 'account-2', 2) }])).toEqual([0]);
  });

  it('leaves out of the window the events at or before the cutoff, but still folds their versions', () => {
    const fold = emptyFold();
    const seen: string[] = [];
    const entries = foldRecords(
      fold,
      records([
        { offset: 1, headers: event('old', 'account-1', 0, NOW - 10) },
        { offset: 2, headers: event('edge', 'account-1', 1, NOW - 5) },
        { offset: 3, headers: event('new', 'account-1', 2, NOW) },
      ]),
      NOW - 5,
      (id) => seen.push(id),
    );
    expect(entries.filter((_, i) => i % 6 === 0)).toEqual([idField('new')]);
    expect(fold.versions.get('account-1')).toBe(2);
    expect(seen).toEqual(['old', 'edge', 'new']);
  });

  it('a record without kes headers, or with a malformed version or time, tells nothing', () => {
    const good = event('g', 'account-1', 4);
    const { 'kes-hash': _, ...noHash } = good;
    const { ce_type: __, ...noType } = good;
    const fold = emptyFold();
    const seen: string[] = [];
    const entries = foldRecords(
      fold,
      records([
        { offset: 1, headers: {} },
        { offset: 2, headers: noHash },
        { offset: 3, headers: noType },
        { offset: 4, headers: { ...good, 'kes-version': '-1' } },
        { offset: 5, headers: { ...good, 'kes-version': '1.5' } },
        { offset: 6, headers: { ...good, 'kes-version': '' } },
        { offset: 7, headers: { ...good, ce_time: 'soon' } },
      ]),
      0,
      (id) => seen.push(id),
    );
    expect(entries).toEqual([]);
    expect(fold.events).toBe(0);
    expect(fold.versions.size).toBe(0);
    expect(seen).toEqual([]);
  });
});

describe('chunksOf', () => {
  it('splits flat tuples into calls of at most n tuples, never splitting a tuple', () => {
    const flat = ['a', '1', 't', 'b', '2', 't', 'c', '3', 't'];
    expect(chunksOf(flat, 3, 2)).toEqual([
      ['a', '1', 't', 'b', '2', 't'],
      ['c', '3', 't'],
    ]);
    expect(chunksOf([], 3, 2)).toEqual([]);
  });
});
