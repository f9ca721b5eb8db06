/**
 * The streams of the writers: writer w owns its own `size` streams (one, or one per item of an atomic batch), so no
 * two writers ever meet (the experiment measures cost, not contention), and it knows each stream's version because
 * it alone writes there. After a failed call the version is unknown (the write may or may not have happened): the
 * writer moves on to new streams rather than guess.
 */
export class WriterStreams {
  private readonly versions: number[][];
  private readonly generation: number[];

  constructor(
    private readonly category: string,
    /** Tells one point's streams from another's, so every point starts on empty streams. */
    private readonly label: string,
    writers: number,
    private readonly size: number,
  ) {
    this.versions = Array.from({ length: writers }, () => new Array<number>(size).fill(-1));
    this.generation = new Array<number>(writers).fill(0);
  }

  /** Writer w's streams with the version each is at (-1: none written yet). */
  of(w: number): { stream: string; version: number }[] {
    const versions = this.versions[w] ?? [];
    const g = this.generation[w] ?? 0;
    return versions.map((version, i) => ({ stream: `${this.category}-${this.label}_w${w}_g${g}_s${i}`, version }));
  }

  /** The call of writer w wrote one event to each of its streams. */
  written(w: number): void {
    const versions = this.versions[w];
    if (versions) for (let i = 0; i < versions.length; i++) versions[i] = (versions[i] ?? -1) + 1;
  }

  /** The call of writer w failed: its next call goes to new, empty streams. */
  failed(w: number): void {
    this.generation[w] = (this.generation[w] ?? 0) + 1;
    this.versions[w] = new Array<number>(this.size).fill(-1);
  }
}
