/** Element of an {@link IndexedHeap}: the heap keeps the element's position in `heapIndex`. */
export interface HeapNode {
  heapIndex: number;
}

/**
 * Binary heap with O(log n) removal of any element, for queues whose items leave from the
 * middle (offered, overflowed, abandoned). `before(a, b)` is true when `a` should come first.
 */
export class IndexedHeap<T extends HeapNode> {
  private readonly nodes: T[] = [];

  constructor(private readonly before: (a: T, b: T) => boolean) {}

  get size(): number {
    return this.nodes.length;
  }

  peek(): T | undefined {
    return this.nodes[0];
  }

  push(node: T): void {
    node.heapIndex = this.nodes.length;
    this.nodes.push(node);
    this.up(node.heapIndex);
  }

  pop(): T | undefined {
    const top = this.nodes[0];
    if (top) this.remove(top);
    return top;
  }

  remove(node: T): void {
    const i = node.heapIndex;
    if (i < 0 || this.nodes[i] !== node) return;
    const last = this.nodes.pop()!;
    node.heapIndex = -1;
    if (last !== node) {
      this.nodes[i] = last;
      last.heapIndex = i;
      this.down(i);
      this.up(last.heapIndex);
    }
  }

  has(node: T): boolean {
    return node.heapIndex >= 0 && this.nodes[node.heapIndex] === node;
  }

  values(): readonly T[] {
    return this.nodes;
  }

  private up(i: number): void {
    const n = this.nodes;
    const node = n[i]!;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const parent = n[p]!;
      if (!this.before(node, parent)) break;
      n[i] = parent;
      parent.heapIndex = i;
      i = p;
    }
    n[i] = node;
    node.heapIndex = i;
  }

  private down(i: number): void {
    const n = this.nodes;
    const len = n.length;
    const node = n[i]!;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= len) break;
      const r = l + 1;
      const c = r < len && this.before(n[r]!, n[l]!) ? r : l;
      const child = n[c]!;
      if (!this.before(child, node)) break;
      n[i] = child;
      child.heapIndex = i;
      i = c;
    }
    n[i] = node;
    node.heapIndex = i;
  }
}

/** Plain min-heap without removal (timers use lazy invalidation). */
export class MinHeap<T> {
  private readonly nodes: T[] = [];
  constructor(private readonly before: (a: T, b: T) => boolean) {}
  get size(): number {
    return this.nodes.length;
  }
  peek(): T | undefined {
    return this.nodes[0];
  }
  push(v: T): void {
    const n = this.nodes;
    let i = n.length;
    n.push(v);
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.before(v, n[p]!)) break;
      n[i] = n[p]!;
      i = p;
    }
    n[i] = v;
  }
  pop(): T | undefined {
    const n = this.nodes;
    const top = n[0];
    const last = n.pop();
    if (n.length > 0 && last !== undefined) {
      let i = 0;
      const len = n.length;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= len) break;
        const r = l + 1;
        const c = r < len && this.before(n[r]!, n[l]!) ? r : l;
        if (!this.before(n[c]!, last)) break;
        n[i] = n[c]!;
        i = c;
      }
      n[i] = last;
    }
    return top;
  }
  clear(): void {
    this.nodes.length = 0;
  }
}
