/**
 * Pipe ids: 31-bit, unique within a world (every host of a simulated network), starting at a seeded
 * random value so two runs of one seed agree, and recycled only after every other id was used
 * (ids count up and wrap, skipping 0 and ids still in use). REQ/REP backtraces carry them on the wire.
 */
import type { Env } from '../../runtime/env.js';

const ID_SPACE = 0x8000_0000; // 2^31

export class PipeIdAllocator {
  private next: number;
  private readonly inUse = new Set<number>();

  constructor(startId: number) {
    this.next = startId % ID_SPACE || 1;
  }

  allocate(): number {
    for (let tries = 0; tries < ID_SPACE; tries++) {
      const id = this.next;
      this.next = id + 1 >= ID_SPACE ? 1 : id + 1;
      if (!this.inUse.has(id)) {
        this.inUse.add(id);
        return id;
      }
    }
    // 2^31 live pipes cannot exist within any memory bound; reaching this is a broken invariant.
    throw new Error('pipe id space exhausted');
  }

  release(id: number): void {
    this.inUse.delete(id);
  }
}

/** The world's allocator (created on first use, seeded from the env's random stream). */
export function pipeIds(env: Env): PipeIdAllocator {
  return env.shared('sp/pipe-ids', () => new PipeIdAllocator(env.random('sp/pipe-ids').int(1, ID_SPACE - 1)));
}
