import { createRequire } from 'node:module';
import type { RawRecord } from './kafkajsInternals.js';

/**
 * kafkajs 2.2.4's read_committed consumer activates one listed aborted transaction per record, so with several
 * aborted transactions begun before a fetched offset (several guards on one partition, some fenced) it lets
 * aborted records through. kes fixes its filter with patch-package (patches/kafkajs+2.2.4.patch, applied by
 * `npm ci`). Consumers that must never see an aborted event call this first: it runs kafkajs' own Batch over the
 * case that leaked, and refuses to go on if the patch is missing, rather than projecting aborted events.
 */
export class KafkajsUnpatchedError extends Error {
  readonly retriable = false;
  constructor(leaked: string[]) {
    super(
      `kafkajs' read_committed filter lets aborted records through (offsets ${leaked.join(', ')} of the self-test): ` +
        'the kes patch is not applied; run `npm ci` (postinstall runs patch-package) or `npx patch-package`',
    );
    this.name = 'KafkajsUnpatchedError';
  }
}

const record = (offset: number, producerId: string, inTransaction = true): RawRecord => ({
  offset: String(offset),
  key: Buffer.from(`k${offset}`),
  value: Buffer.from(`v${offset}`),
  headers: {},
  timestamp: '0',
  isControlRecord: false,
  batchContext: { producerId, inTransaction },
});
const marker = (offset: number, producerId: string, commit: boolean): RawRecord => ({
  ...record(offset, producerId),
  key: Buffer.from([0, 0, 0, commit ? 1 : 0]),
  isControlRecord: true,
});

/** Producers A and B each wrote an aborted transaction, C a committed one, all interleaved; N is not transactional. */
export const INTERLEAVED_ABORTS = {
  log: [
    record(10, 'A'),
    record(11, 'B'),
    record(12, 'C'),
    record(13, 'B'),
    record(14, 'A'),
    marker(15, 'A', false),
    record(16, 'B'),
    marker(17, 'B', false),
    marker(18, 'C', true),
    record(19, 'N', false),
  ],
  aborted: [
    { producerId: 'A', firstOffset: '10' },
    { producerId: 'B', firstOffset: '11' },
  ],
  visible: ['12', '19'],
};

type BatchClass = new (
  topic: string,
  fetchedOffset: string,
  partitionData: object,
) => { messages: { offset: string }[] };

/** The offsets kafkajs' consumer Batch exposes for the fixture fetched from `from`. */
export function kafkajsVisibleOffsets(from: number): string[] {
  const require = createRequire(import.meta.url);
  const Batch = require('kafkajs/src/consumer/batch.js') as BatchClass;
  const { log, aborted } = INTERLEAVED_ABORTS;
  const batch = new Batch('t', String(from), {
    partition: 0,
    highWatermark: '20',
    abortedTransactions: aborted,
    messages: log.filter((r) => Number(r.offset) >= from),
  });
  return batch.messages.map((m) => m.offset);
}

export function assertReadCommittedPatched(): void {
  for (let from = 10; from <= 19; from++) {
    const expected = INTERLEAVED_ABORTS.visible.filter((o) => Number(o) >= from);
    const seen = kafkajsVisibleOffsets(from);
    const leaked = seen.filter((o) => !expected.includes(o));
    if (leaked.length > 0) throw new KafkajsUnpatchedError(leaked);
  }
}
