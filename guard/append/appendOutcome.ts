/** Where an append was written, as the group commit learns it. */
export interface AppendOutcome {
  stream: string;
  firstVersion: number;
  lastVersion: number;
  topic: string;
  partition: number;
  /** Offset of the append's last event. */
  offset: number;
  /** True when this answer comes from the first write of the same event ids (a retry). */
  duplicate: boolean;
}

/** The body of a 200 to `POST /streams/{stream}/events`; the typed client reads it back as its AppendResult. */
export type AppendAnswer = Omit<AppendOutcome, 'duplicate'> & {
  /** Present (true) only when the guard answered from an earlier write of the same ids. */
  duplicate?: true;
};

export function appendAnswer(outcome: AppendOutcome): AppendAnswer {
  return {
    stream: outcome.stream,
    firstVersion: outcome.firstVersion,
    lastVersion: outcome.lastVersion,
    topic: outcome.topic,
    partition: outcome.partition,
    offset: outcome.offset,
    ...(outcome.duplicate ? { duplicate: true } : {}),
  };
}
