/**
 * Assertions for broken internal invariants: facts the code relies on that no peer, user, fault
 * plan or network can make false, only a bug in netlab itself (a queue that must never go back in
 * virtual time, bytes that must be conserved, a pipe attached twice). A failed assertion throws
 * AssertionError (code 'ERR_ASSERTION') and is meant to crash loudly, not to be handled.
 *
 * Not for input: whatever a peer, a caller or the network can provoke stays a typed error with a
 * stable code (SpError, SimError, NetError, BytesError), STYLE.md habit 5. Assert in pairs, where
 * data is produced and where it is consumed (TigerBeetle, STYLE.md habit 7).
 *
 * Cheap enough for hot paths: pass a constant message (no template literal), so the passing path
 * costs one comparison and builds nothing. Browser-safe: no imports.
 */

/** A broken internal invariant: a bug in netlab, never a peer's or a user's fault. */
export class AssertionError extends Error {
  override readonly name = 'AssertionError';
  readonly code = 'ERR_ASSERTION' as const;

  constructor(message: string) {
    super(`netlab internal invariant: ${message}`);
  }
}

/**
 * Throws AssertionError unless `cond` holds. `message` names the invariant ("a timer fires at most
 * once"); keep it a constant string so a passing assertion allocates nothing.
 */
export function assert(cond: boolean, message: string): asserts cond {
  if (!cond) throw new AssertionError(message);
}
