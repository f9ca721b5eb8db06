/** Disjoint sets over 0..n-1 with path compression; count() is the number of sets. */
export class UnionFind {
  private readonly parent: Int32Array;
  private roots: number;
  constructor(n: number) {
    this.parent = Int32Array.from({ length: n }, (_, i) => i);
    this.roots = n;
  }
  find(i: number): number {
    let root = i;
    while (this.parent[root] !== root) root = this.parent[root] ?? root;
    let at = i;
    while (at !== root) {
      const next = this.parent[at] ?? root;
      this.parent[at] = root;
      at = next;
    }
    return root;
  }
  union(a: number, b: number): void {
    const ra = this.find(a);
    const rb = this.find(b);
    if (ra === rb) return;
    this.parent[rb] = ra;
    this.roots--;
  }
  count(): number {
    return this.roots;
  }
}
