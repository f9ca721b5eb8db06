/**
 * read_committed visibility, decided the way the Java consumer decides it, for whoever walks a fetch in offset order:
 * an aborted transaction the broker lists for the fetched range becomes active at its first offset and stays active
 * until its producer's abort marker; a transactional record of an active producer is not visible. Several guards
 * writing one partition, some of them fenced, interleave aborted transactions; the filter handles any number.
 *
 * Used per record (`visibleRecords`, over kafkajs' decoded records) and per batch (`forEachVisibleBatch`, over raw
 * record batches): one rule, two granularities.
 */
export interface AbortedTransaction {
  producerId: string;
  firstOffset: string;
}

export class AbortedFilter {
  private readonly pending: AbortedTransaction[];
  private readonly active = new Set<string>();

  constructor(aborted: readonly AbortedTransaction[]) {
    this.pending = [...aborted].sort((a, b) => Number(a.firstOffset) - Number(b.firstOffset));
  }

  /** The walk has reached `offset`: the aborted transactions that begin at or before it become active. */
  reach(offset: number): void {
    while (this.pending.length > 0 && Number(this.pending[0]?.firstOffset) <= offset) {
      this.active.add(String(this.pending.shift()?.producerId));
    }
  }

  /** Whether a transactional record of `producerId`, at the offset last reached, belongs to an aborted transaction. */
  aborted(producerId: string): boolean {
    return this.active.has(producerId);
  }

  /** `producerId`'s abort marker: its aborted transaction ends there. */
  abortMarker(producerId: string): void {
    this.active.delete(producerId);
  }
}
