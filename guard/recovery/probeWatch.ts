/**
 * Decides roll forward or back. A reservation's probe is the id of its first event. Its owner is fenced before
 * anything is read, so no transaction of it can commit afterwards, and reading read_committed to the partition's
 * end shows everything it ever committed: probe found, the reservation's events are in Kafka (roll forward, keep
 * the versions); not found, they never will be (roll back).
 */
export class ProbeWatch {
  private readonly probes: ReadonlySet<string>;
  private readonly seenProbes = new Set<string>();

  constructor(probeIds: Iterable<string>) {
    this.probes = new Set(probeIds);
  }

  /** Called for every event id read back. */
  seen(eventId: string): void {
    if (this.probes.has(eventId)) this.seenProbes.add(eventId);
  }

  /** True: roll forward. False: roll back. */
  found(probeId: string): boolean {
    return this.seenProbes.has(probeId);
  }
}
