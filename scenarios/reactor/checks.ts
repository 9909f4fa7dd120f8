/**
 * The reactor stack's checks, named invariants over what the taps and clients recorded, stated from
 * streams.md D.2 and issue #19 (spec facts in ./reference.ts, never impl/reactor's defaults).
 * Isomorphic.
 */
import { verdict, type CheckContext, type CheckDef, type CheckVerdict } from '../checks.js';
import { clientStream, serverOf, type ClientSpec, type ReactorScenario, type ServerSpec } from './model.js';
import type { ReactorObservations, ServerConnObs } from './observations.js';
import {
  busyUntilAfterCharge,
  SPEC_DEFAULT_IDLE_TIMEOUT_US,
  SPEC_DEFAULT_INPUT_HIGH_WATER_BYTES,
  SPEC_DEFAULT_MAX_UNCONSUMED_RUNS,
  SPEC_DEFAULT_READ_TIMEOUT_US,
  SPEC_TICK_US,
} from './reference.js';

export type ReactorCheckDef = CheckDef<ReactorScenario, ReactorObservations, CheckContext>;

const NA = (why: string): CheckVerdict => ({ status: 'not-applicable', expected: null, actual: why });

function connsOf(obs: ReactorObservations): ServerConnObs[] {
  return Object.values(obs.servers).flatMap((x) => x.conns);
}

function specOf(s: ReactorScenario, name: string): ServerSpec | undefined {
  return s.servers.find((x) => x.name === name);
}

/**
 * The position of the client a server connection serves: by address where addresses tell clients
 * apart (tcp), else by the first bytes it received (each client's stream is its own); undefined
 * when ambiguous.
 */
export function clientIndexOf(
  s: ReactorScenario,
  obs: ReactorObservations,
  k: ServerConnObs,
): number | undefined {
  const byAddress = s.clients.flatMap((c, i) => (obs.clients[c.name]?.localAddress === k.remote ? [i] : []));
  const sameAddress = s.clients.filter((c) => obs.clients[c.name]?.localAddress === k.remote).length;
  if (byAddress.length === 1 && sameAddress === 1) return byAddress[0];
  if (k.head.length === 0) return undefined;
  const byHead = s.clients.flatMap((c, i) => {
    const { bytes } = clientStream(i, c);
    return k.head.every((b, j) => bytes[j] === b) ? [i] : [];
  });
  return byHead.length === 1 ? byHead[0] : undefined;
}

/** The server connection serving client `i`, if exactly one is known to. */
function serverConnOf(s: ReactorScenario, obs: ReactorObservations, i: number): ServerConnObs | undefined {
  const found = connsOf(obs).filter((k) => clientIndexOf(s, obs, k) === i);
  return found.length === 1 ? found[0] : undefined;
}

/**
 * Hosts a `pause` fault froze during the run: their clocks and timers stood still, so exact timing
 * is not judged for the servers on them.
 */
function pausedHosts(s: ReactorScenario, ctx: CheckContext): Set<string> {
  const out = new Set<string>();
  if (!ctx.faults.some((f) => f.kind === 'pause' && f.startUs !== null)) return out;
  for (const f of s.faults.faults) if (f.kind === 'pause') out.add(f.host);
  return out;
}

/** D.2 item 1: callback order, exactly once, no overlap. */
export function callbackViolation(k: ServerConnObs, closed: boolean): string | null {
  let inRequest = false;
  let connectEnded = !k.events.some((e) => e.ev === 'connect-start');
  let disconnects = 0;
  const cbs: number[] = [];
  const at = (i: number): string => `connection ${k.id} (${k.server}) event #${i}`;
  for (const [i, e] of k.events.entries()) {
    if (i === 0 && e.ev !== 'prepare') return `${at(i)}: ${e.ev} before onPrepare`;
    switch (e.ev) {
      case 'connect-end':
        connectEnded = true;
        break;
      case 'request-start':
        if (inRequest) return `${at(i)}: onRequest started while another was running`;
        if (!connectEnded) return `${at(i)}: onRequest started before onConnect ended`;
        if (disconnects > 0 || cbs.length > 0)
          return `${at(i)}: onRequest started after the connection closed`;
        inRequest = true;
        break;
      case 'request-end':
        inRequest = false;
        break;
      case 'disconnect':
        if (inRequest) return `${at(i)}: onDisconnect ran while onRequest was running`;
        if (!connectEnded) return `${at(i)}: onDisconnect ran before onConnect ended`;
        disconnects++;
        break;
      case 'close-cb':
        if (inRequest) return `${at(i)}: a close callback ran while onRequest was running`;
        if (disconnects === 0) return `${at(i)}: a close callback ran before onDisconnect`;
        cbs.push(e.arg ?? -1);
        break;
      default:
        break;
    }
  }
  if (disconnects > 1) return `connection ${k.id} (${k.server}): onDisconnect ran ${disconnects} times`;
  if (cbs.length > 0 || closed) {
    if (cbs.length !== 2 || cbs[0] !== 1 || cbs[1] !== 0)
      return `connection ${k.id} (${k.server}): close callbacks ran as [${cbs.join(', ')}], expected [1, 0] (each once, LIFO)`;
  }
  return null;
}

export const CALLBACK_ORDER: ReactorCheckDef = {
  id: 'reactor.callback-order',
  kind: 'always',
  requirement:
    'per connection, onRequest never overlaps itself, never starts before onConnect ends, never overlaps or follows the close callbacks; onDisconnect and each close callback run exactly once, close callbacks LIFO (streams.md D.2 item 1)',
  ref: 'streams.md D.2 item 1',
  evaluate(_s, obs) {
    const expected = 'callbacks ordered, each once';
    for (const k of connsOf(obs)) {
      const v = callbackViolation(
        k,
        k.events.some((e) => e.ev === 'disconnect'),
      );
      if (v !== null) return verdict(v, expected);
    }
    return verdict(null, expected);
  },
};

export const INPUT_HANDLED: ReactorCheckDef = {
  id: 'reactor.input-handled',
  kind: 'eventually',
  requirement:
    'every accepted connection closes, and whatever input it received was offered to onRequest, including what a peer sent just before closing (D.2 item 2): an echo handler consumed all of it, a framed one every complete frame',
  ref: 'streams.md D.2 item 2',
  evaluate(s, obs, ctx) {
    const expected = 'input handled on every connection';
    if (ctx.lossy) return NA('a reset or crash fired');
    let judged = 0;
    for (const k of connsOf(obs)) {
      if (!k.events.some((e) => e.ev === 'disconnect')) {
        // Its peer ended its side (the close must follow), or its idle timeout fell due (simulator
        // only: on real sockets the run may end first).
        const i = clientIndexOf(s, obs, k);
        const ended = i !== undefined && obs.clients[s.clients[i]!.name]?.ended != null;
        const idleDue =
          ctx.runtime !== 'real' && k.idleTimeoutUs > 0 && k.lastByteUs + k.idleTimeoutUs < ctx.endUs;
        if (ended || idleDue)
          return verdict(`connection ${k.id} (${k.server}) never closed (${k.bytesIn} bytes in)`, expected);
        continue;
      }
      const x = specOf(s, k.server);
      if (x === undefined || x.handler === 'peek' || k.closeReason !== 'peer-closed') continue;
      judged++;
      const want = x.handler === 'framed' ? framedPrefix(s, obs, k) : k.bytesIn;
      if (want !== null && k.consumed !== want)
        return verdict(
          `connection ${k.id} (${k.server}, ${x.handler}) received ${k.bytesIn} bytes, handlers consumed ${k.consumed}, expected ${want}`,
          expected,
        );
    }
    return judged === 0 ? NA('no connection closed by its peer') : verdict(null, expected);
  },
};

/** Bytes of complete frames within what a framed connection received (null: its client is unknown). */
function framedPrefix(s: ReactorScenario, obs: ReactorObservations, k: ServerConnObs): number | null {
  const i = clientIndexOf(s, obs, k);
  return i === undefined ? null : lastFrameEnd(i, s.clients[i]!, k.bytesIn);
}

export const OUTPUT_IN_ORDER: ReactorCheckDef = {
  id: 'reactor.output-in-order',
  kind: 'always',
  requirement:
    'every client receives a prefix of what it sent, byte for byte: output is delivered in order, exactly once, also after a write timeout (D.2 item 3)',
  ref: 'streams.md D.2 item 3',
  evaluate(s, obs) {
    const expected = 'each client got a prefix of its own stream';
    for (const c of s.clients) {
      const o = obs.clients[c.name];
      if (o === undefined || o.mismatchAt < 0) continue;
      return verdict(
        `${c.name} got a byte at offset ${o.mismatchAt} that differs from what it sent there (${o.receivedBytes} received)`,
        expected,
      );
    }
    return verdict(null, expected);
  },
};

export const OUTPUT_COMPLETE: ReactorCheckDef = {
  id: 'reactor.output-complete',
  kind: 'eventually',
  requirement:
    'with no fault that destroys data, a client that only half-closes gets everything it sent back (echo kinds) or every complete frame (framed), unless its connection closed with output unsent (a timeout)',
  ref: 'streams.md D.2 item 3',
  evaluate(s, obs, ctx) {
    if (ctx.lossy) return NA('a reset or crash fired');
    const expected = 'every echo delivered';
    let judged = 0;
    for (const [i, c] of s.clients.entries()) {
      const o = obs.clients[c.name];
      const x = serverOf(s, c);
      if (
        o === undefined ||
        x === undefined ||
        x.handler === 'peek' ||
        o.ended === 'close' ||
        o.ended === 'reset'
      )
        continue;
      if (o.scriptError !== null || o.connectedAtUs === null) continue;
      // Judged once the client saw the server's close (everything sent before it has arrived), or
      // once nothing more could happen (the simulated world went idle).
      if (o.closed === null && ctx.reason !== 'idle') continue;
      const k = serverConnOf(s, obs, i);
      if (k === undefined || k.closeReason === null) continue;
      if (k.closeReason !== 'peer-closed' && k.closeReason !== 'idle-timeout' && k.closeReason !== 'user')
        continue;
      if (k.unsentAtClose > 0 || k.waits.some((w) => w.outcome !== null && w.outcome !== 'ok')) continue;
      judged++;
      // What reached the server before it closed is what must come back.
      const took = Math.min(o.sentBytes, k.bytesIn);
      const want = x.handler === 'framed' ? lastFrameEnd(i, c, took) : took;
      if (o.receivedBytes !== want)
        return verdict(
          `${c.name} sent ${o.sentBytes} bytes (${k.bytesIn} reached the server) and got ${o.receivedBytes} back, expected ${want} (server closed: ${k.closeReason})`,
          expected,
        );
    }
    return judged === 0
      ? NA('no client whose connection closed with its output delivered')
      : verdict(null, expected);
  },
};

function lastFrameEnd(i: number, c: ClientSpec, sent: number): number {
  let best = 0;
  for (const end of clientStream(i, c).frameEnds) if (end <= sent) best = end;
  return best;
}

export const WRITE_INTEREST: ReactorCheckDef = {
  id: 'reactor.write-interest',
  kind: 'always',
  requirement:
    'write interest is held iff bytes remain after a write: never with nothing unsent, always after a short write (D.2 item 3); flushes of a connection never overlap (item 4)',
  ref: 'streams.md D.2 items 3, 4',
  evaluate(_s, obs) {
    const expected = 'interest iff bytes remain; one flusher at a time';
    for (const k of connsOf(obs)) {
      if (k.interestWithoutBytes > 0)
        return verdict(
          `connection ${k.id} (${k.server}) held write interest with no byte unsent (${k.interestWithoutBytes} times)`,
          expected,
        );
      if (k.bytesWithoutInterest > 0)
        return verdict(
          `connection ${k.id} (${k.server}) held no write interest after a short write (${k.bytesWithoutInterest} times)`,
          expected,
        );
      let open = 0;
      for (const w of k.waits.filter((x) => x.kind === 'flush')) if (w.endUs === null) open++;
      if (open > 1)
        return verdict(`connection ${k.id} (${k.server}) had ${open} flushes waiting at once`, expected);
      if (k.waits.some((w) => w.outcome === 'ErrConcurrentFlush'))
        return verdict(
          `connection ${k.id} (${k.server}) refused a concurrent flush the lab handlers never make`,
          expected,
        );
    }
    return verdict(null, expected);
  },
};

export const IDLE_TIMEOUT: ReactorCheckDef = {
  id: 'reactor.idle-timeout',
  kind: 'always',
  requirement:
    'a connection closes for idleness within idleTimeout + one tick of its last byte in either direction, and never earlier (#19 item 4: no keepalive stand-in)',
  ref: 'issue #19 item 4',
  timing: true,
  evaluate(s, obs, ctx) {
    const expected = `idle connections close at idleTimeout (+${SPEC_TICK_US} µs)`;
    let judged = 0;
    const paused = pausedHosts(s, ctx);
    for (const k of connsOf(obs)) {
      if (paused.has(obs.servers[k.server]?.host ?? '')) continue;
      const idle = k.idleTimeoutUs;
      if (idle <= 0) continue;
      const deadline = k.lastByteUs + idle + SPEC_TICK_US;
      judged++;
      if (k.closeReason === 'idle-timeout' && k.closeAtUs !== null) {
        if (k.closeAtUs - k.lastByteUs < idle)
          return verdict(
            `connection ${k.id} (${k.server}) closed as idle at ${k.closeAtUs} µs, ${k.closeAtUs - k.lastByteUs} µs after its last byte (idleTimeout ${idle})`,
            expected,
          );
        if (k.closeAtUs > deadline)
          return verdict(
            `connection ${k.id} (${k.server}) closed as idle at ${k.closeAtUs} µs, ${k.closeAtUs - k.lastByteUs} µs after its last byte (idleTimeout ${idle})`,
            expected,
          );
        continue;
      }
      const closedAt = k.closeAtUs ?? (k.events.some((e) => e.ev === 'disconnect') ? k.lastByteUs : null);
      if (closedAt === null && (ctx.endUs > deadline || ctx.reason === 'idle'))
        return verdict(
          `connection ${k.id} (${k.server}) still open at ${ctx.endUs} µs, last byte at ${k.lastByteUs} µs (idleTimeout ${idle})`,
          expected,
        );
      if (k.closeAtUs !== null && k.closeAtUs > deadline)
        // Closed later for another reason: it must not have sat idle past its deadline first.
        return verdict(
          `connection ${k.id} (${k.server}) sat idle from ${k.lastByteUs} µs until ${k.closeAtUs} µs (${k.closeReason}; idleTimeout ${idle})`,
          expected,
        );
    }
    return judged === 0 ? NA('no connection could sit idle') : verdict(null, expected);
  },
};

export const READ_TIMEOUT: ReactorCheckDef = {
  id: 'reactor.read-timeout',
  kind: 'always',
  requirement:
    'a read timeout fires only inside a blocking read, after readTimeout of waiting (+ one tick), never earlier (D.2 item 6)',
  ref: 'streams.md D.2 item 6',
  timing: true,
  evaluate(s, obs, ctx) {
    const expected = 'read timeouts only in blocking reads, on time';
    const paused = pausedHosts(s, ctx);
    for (const k of connsOf(obs)) {
      if (paused.has(obs.servers[k.server]?.host ?? '')) continue;
      const x = specOf(s, k.server);
      const limit = x?.options.readTimeoutUs ?? SPEC_DEFAULT_READ_TIMEOUT_US;
      const seen = k.waits.filter((w) => w.kind === 'read' && w.outcome === 'ErrReadTimeout');
      if (k.readTimeoutsCounted > seen.length)
        return verdict(
          `connection ${k.id} (${k.server}) counted ${k.readTimeoutsCounted} read timeouts, ${seen.length} inside blocking reads`,
          expected,
        );
      for (const w of seen) {
        const waited = (w.endUs ?? 0) - w.startUs;
        if (waited < limit || waited > limit + SPEC_TICK_US)
          return verdict(
            `connection ${k.id} (${k.server}): a blocking read timed out after ${waited} µs (readTimeout ${limit})`,
            expected,
          );
      }
    }
    return verdict(null, expected);
  },
};

export const INPUT_BOUNDED: ReactorCheckDef = {
  id: 'reactor.input-bounded',
  kind: 'always',
  requirement:
    'the input a connection holds never exceeds inputHighWaterBytes plus one read, and reading is paused whenever it holds the high-water mark with no blocking read waiting (#19 item 5; D.2 item 5)',
  ref: 'streams.md D.2 item 5',
  evaluate(s, obs) {
    const expected = 'input held within the high-water mark + one read';
    for (const k of connsOf(obs)) {
      const high = specOf(s, k.server)?.options.inputHighWaterBytes ?? SPEC_DEFAULT_INPUT_HIGH_WATER_BYTES;
      if (k.maxHeldAfterRead > high + k.maxChunkBytes)
        return verdict(
          `connection ${k.id} (${k.server}) held ${k.maxHeldAfterRead} input bytes (high-water ${high}, largest read ${k.maxChunkBytes})`,
          expected,
        );
      if (k.unpausedOverHigh > 0)
        return verdict(
          `connection ${k.id} (${k.server}) kept reading at or above the high-water mark ${high} (${k.unpausedOverHigh} reads)`,
          expected,
        );
    }
    return verdict(null, expected);
  },
};

export const SPIN_BOUNDED: ReactorCheckDef = {
  id: 'reactor.spin-bounded',
  kind: 'always',
  requirement:
    'onRequest is re-run on input it does not consume at most maxUnconsumedRuns times in a row; then the connection closes (#19 item 3)',
  ref: 'issue #19 item 3',
  evaluate(s, obs) {
    const expected = 'unconsumed re-runs bounded';
    for (const k of connsOf(obs)) {
      const max = specOf(s, k.server)?.options.maxUnconsumedRuns ?? SPEC_DEFAULT_MAX_UNCONSUMED_RUNS;
      if (k.maxUnconsumedStreak > max)
        return verdict(
          `connection ${k.id} (${k.server}): onRequest ran ${k.maxUnconsumedStreak} times in a row consuming nothing (maxUnconsumedRuns ${max})`,
          expected,
        );
    }
    return verdict(null, expected);
  },
};

export const PEER_BLOCKED: ReactorCheckDef = {
  id: 'reactor.stall-blocks-peer',
  kind: 'always',
  requirement:
    'a stalled handler stalls its peer: while a stall handler has not consumed, the server takes in at most the high-water mark plus one read, so a client sending more is blocked (#19 item 5)',
  ref: 'issue #19 item 5',
  evaluate(s, obs) {
    const expected = 'a stalled connection takes in no more than high-water + one read';
    for (const k of connsOf(obs)) {
      const x = specOf(s, k.server);
      if (x?.handler !== 'stall') continue;
      const high = x.options.inputHighWaterBytes ?? SPEC_DEFAULT_INPUT_HIGH_WATER_BYTES;
      const first = k.events.find((e) => e.ev === 'request-end');
      if (first === undefined && k.bytesIn > high + k.maxChunkBytes)
        return verdict(
          `connection ${k.id} (${k.server}) took in ${k.bytesIn} bytes while stalled (high-water ${high})`,
          expected,
        );
    }
    return verdict(null, expected);
  },
};

export const BALANCE_SPREAD: ReactorCheckDef = {
  id: 'reactor.balance-spread',
  kind: 'always',
  requirement:
    'round-robin: connections per loop differ by at most 1 (D.2 item 7); least-connections: each connection goes to a loop with the fewest open connections',
  ref: 'streams.md D.2 item 7',
  evaluate(s, obs) {
    const expected = 'loops assigned by the policy';
    for (const x of s.servers) {
      const o = obs.servers[x.name];
      if (o === undefined || o.boots > 1) continue;
      const loops = x.options.loops ?? 1;
      const policy = x.options.loadBalance ?? 'round-robin';
      if (policy === 'round-robin') {
        const counts = Array.from({ length: loops }, () => 0);
        for (const a of o.assignments) counts[a.loop] = (counts[a.loop] ?? 0) + 1;
        if (Math.max(...counts) - Math.min(...counts) > 1)
          return verdict(
            `${x.name}: connections per loop ${JSON.stringify(counts)} under round-robin`,
            expected,
          );
      } else if (policy === 'least-connections') {
        for (const [i, a] of o.assignments.entries()) {
          const min = Math.min(...a.openBefore);
          if ((a.openBefore[a.loop] ?? 0) > min)
            return verdict(
              `${x.name}: connection #${i} went to loop ${a.loop} with ${a.openBefore[a.loop]} open (open per loop ${JSON.stringify(a.openBefore)})`,
              expected,
            );
        }
      }
    }
    return verdict(null, expected);
  },
};

export const LOOP_ISOLATION: ReactorCheckDef = {
  id: 'reactor.loop-isolation',
  kind: 'always',
  requirement:
    "a busy loop delays only its own connections: an onRequest starts no later than when it became due or, if later, when its own loop's charged CPU time ran out (+ one tick) (#19 item 1)",
  ref: 'issue #19 item 1',
  timing: true,
  evaluate(s, obs, ctx) {
    const expected = 'requests wait only for their own loop';
    const paused = pausedHosts(s, ctx);
    for (const x of Object.values(obs.servers)) {
      if (x.boots > 1 || paused.has(x.host)) continue;
      for (const k of x.conns)
        for (const r of k.requests) {
          let busy = 0;
          for (const c of x.charges)
            if (c.loop === k.loop && c.atUs < r.startUs) busy = busyUntilAfterCharge(busy, c.atUs, c.us);
          const bound = Math.max(r.dueUs, busy) + SPEC_TICK_US;
          if (r.startUs > bound)
            return verdict(
              `connection ${k.id} (${x.name}, loop ${k.loop}): onRequest due at ${r.dueUs} µs started at ${r.startUs} µs; its loop was busy until ${busy} µs`,
              expected,
            );
        }
    }
    return verdict(null, expected);
  },
};

export const REACTOR_CHECKS: ReadonlyMap<string, ReactorCheckDef> = new Map(
  [
    CALLBACK_ORDER,
    INPUT_HANDLED,
    OUTPUT_IN_ORDER,
    OUTPUT_COMPLETE,
    WRITE_INTEREST,
    IDLE_TIMEOUT,
    READ_TIMEOUT,
    INPUT_BOUNDED,
    SPIN_BOUNDED,
    PEER_BLOCKED,
    BALANCE_SPREAD,
    LOOP_ISOLATION,
  ].map((c) => [c.id, c]),
);

export { SPEC_DEFAULT_IDLE_TIMEOUT_US };
