/**
 * Shards of a campaign: `netlab run --shard i/n` runs only every n-th work item, so a large run
 * spreads over CI runners (the CI system's job matrix is the distributed engine); `netlab merge`
 * joins the shards' reports. Pure.
 */

/** Largest n of --shard i/n: far more CI runners than anyone has, small enough to print. */
export const SHARDS_MAX = 10_000;

export class ShardError extends Error {
  override readonly name = 'ShardError';
  readonly code = 'ERR_BAD_SHARD';
}

export interface Shard {
  /** 1-based. */
  index: number;
  count: number;
}

/** Parses --shard i/n (1 <= i <= n); a bad value is a ShardError naming what is accepted. */
export function parseShard(text: string | undefined): Shard {
  if (text === undefined) return { index: 1, count: 1 };
  const m = /^(\d+)\/(\d+)$/.exec(text.trim());
  const index = m ? Number(m[1]) : NaN;
  const count = m ? Number(m[2]) : NaN;
  if (!(count >= 1 && count <= SHARDS_MAX && index >= 1 && index <= count))
    throw new ShardError(
      `--shard must be i/n with 1 <= i <= n <= ${SHARDS_MAX} (e.g. 1/4 ... 4/4), got '${text}'`,
    );
  return { index, count };
}

/** The items of shard i/n: item k (0-based, in run order) goes to shard k mod n + 1. Deterministic, balanced. */
export function shardItems<T>(items: readonly T[], shard: Shard): T[] {
  return items.filter((_, k) => k % shard.count === shard.index - 1);
}
