/**
 * The application actions of a run: what each scenario actor started (a send, a request waiting
 * for its reply, a survey, a close) and has not seen end, with a result or a typed error. A stack's
 * actors record them here; the engine check `stack.workload-completes` fails a run that ends with
 * any still pending, naming them: an action that hangs is a finding even when every check that
 * looks only at what happened would pass. Stack-neutral and isomorphic.
 *
 * Bounded by the workload: one entry per action in flight, and an actor has at most a few at once.
 */

/** An action that began and had not ended when the run was judged. */
export interface PendingAction {
  /** The scenario actor (a socket, a client) that started it. */
  actor: string;
  /** What it is, e.g. "send #3", "reply to request #2", "close". */
  what: string;
  /** When it began (virtual µs, or µs since the start of a real run). */
  sinceUs: number;
}

interface OpenAction extends PendingAction {
  host: string;
}

export class ActionLedger {
  private nextId = 0;
  private readonly open = new Map<number, OpenAction>();

  /** Records that `actor` on `host` began `what` at `nowUs`; returns the handle end() takes. */
  begin(host: string, actor: string, what: string, nowUs: number): number {
    const id = this.nextId++;
    this.open.set(id, { host, actor, what, sinceUs: nowUs });
    return id;
  }

  /** The action ended (a result or an error); ending one twice or after dropHost is harmless. */
  end(id: number): void {
    this.open.delete(id);
  }

  /** The host crashed: the actions on it are lost with it, not pending. */
  dropHost(host: string): void {
    for (const [id, a] of this.open) if (a.host === host) this.open.delete(id);
  }

  /** The actions still open, in the order they began. */
  pending(): PendingAction[] {
    return [...this.open.values()].map(({ actor, what, sinceUs }) => ({ actor, what, sinceUs }));
  }
}

/** How many pending actions a verdict names before "and N more". */
const NAMED_MAX = 5;

/** The pending actions as a verdict's text: "client0 send #3 (pending since 12.500 ms); ...". */
export function describePending(pending: readonly PendingAction[]): string {
  const named = pending
    .slice(0, NAMED_MAX)
    .map((a) => `${a.actor} ${a.what} (pending since ${(a.sinceUs / 1000).toFixed(3)} ms)`);
  const more = pending.length > NAMED_MAX ? `; and ${pending.length - NAMED_MAX} more` : '';
  return `${pending.length} application action${pending.length === 1 ? '' : 's'} never ended: ${named.join('; ')}${more}`;
}
