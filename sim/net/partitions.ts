/**
 * Who cannot reach whom: the active partitions of a simulated network, each cutting traffic between
 * two groups of hosts (both ways, or one way only) until healed. Traffic held while cut is the
 * network's business (Network.heal releases it); this table only answers "is from -> to blocked?".
 */

export interface PartitionOptions {
  /** Block only traffic from the first group to the second (default false: both directions). */
  oneWay?: boolean;
}

interface Partition {
  a: Set<string>;
  b: Set<string>;
  oneWay: boolean;
}

/** Internal to sim/net. */
export class PartitionTable {
  private readonly partitions = new Map<number, Partition>();
  private nextPartitionId = 1;

  /** Cuts traffic between the two groups; returns the new partition's id. */
  add(a: readonly string[], b: readonly string[], options: PartitionOptions): number {
    const id = this.nextPartitionId++;
    this.partitions.set(id, { a: new Set(a), b: new Set(b), oneWay: options.oneWay === true });
    return id;
  }

  /** Removes one partition; false when no partition has that id. */
  delete(id: number): boolean {
    return this.partitions.delete(id);
  }

  clear(): void {
    this.partitions.clear();
  }

  has(id: number): boolean {
    return this.partitions.has(id);
  }

  /** True when traffic from host `from` to host `to` is cut by a partition. */
  blocked(from: string, to: string): boolean {
    if (this.partitions.size === 0) return false;
    for (const p of this.partitions.values()) {
      if (p.a.has(from) && p.b.has(to)) return true;
      if (!p.oneWay && p.b.has(from) && p.a.has(to)) return true;
    }
    return false;
  }
}
