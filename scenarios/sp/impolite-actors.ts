/**
 * The impolite applications (`app.impolite`, scenarios/sp/impolite-model.ts): a REQ with several
 * contexts that abandons late requests and closes contexts under pending receives, a SURVEYOR that
 * starts surveys faster than SURVEY-TIME, a sender that closes right after its last send, a receiver
 * whose receive is pending into the close. Every send, reply, survey, receive and close is an action
 * in the run's ledger (scenarios/actions.ts): one that never ends is a `stack.workload-completes`
 * finding that names it. What the application saw is recorded in `SocketObs.impolite` for the checks
 * of scenarios/sp/families/impolite.ts. Isomorphic, deterministic (virtual time only).
 */
import { lastWord, newSentRecord } from './actors.js';
import type { Env } from '../../impl/runtime/env.js';
import type { Context, Socket } from '../../impl/sp/core/socket.js';
import type { ActionLedger } from '../actions.js';
import type { SocketObs } from './checks.js';
import type { ImpoliteObs, ImpoliteRequest } from './impolite-model.js';
import type { SocketSpec } from './model.js';

/** What the scenario run hands an impolite socket's application. */
export interface ImpoliteParts {
  spec: SocketSpec;
  s: Socket;
  o: SocketObs;
  env: Env;
  actions: ActionLedger;
  payloadOf(socket: string, index: number): Uint8Array;
  /** The socket's workload sizes and gaps, by workload index. */
  sizes: readonly number[];
  gaps: readonly number[];
  /** Samples the socket's queue lengths (after each send). */
  sample(): void;
}

/** Where a request goes: the socket's own context or one it opened. */
type Endpoint = Socket | Context;

/** The socket's impolite record, made on first use. */
export function impoliteObs(o: SocketObs): ImpoliteObs {
  o.impolite ??= { requests: [], closeCalledAtUs: null, closeEndedAtUs: null, recvAtClose: null };
  return o.impolite;
}

function errorCode(e: unknown): string | null {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : null;
}

function newRequest(index: number, lane: number, generation: number, env: Env): ImpoliteRequest {
  return {
    index,
    lane,
    generation,
    sentAtUs: env.nowUs(),
    acceptedAtUs: null,
    cancelledAtUs: null,
    contextClosedAtUs: null,
    endedAtUs: null,
    ending: null,
  };
}

/** Runs the impolite application of a socket (the runner's runSocket calls it after dialing). */
export async function runImpolite(p: ImpoliteParts): Promise<void> {
  const { spec } = p;
  impoliteObs(p.o);
  if (spec.app.kind === 'send') {
    if (spec.protocol === 'req0') await runRequester(p);
    else if (spec.protocol === 'surveyor0') await runSurveyor(p);
    else await runSender(p);
    if (spec.app.impolite?.closeAfterSend === true && !p.s.closed) await closeSocket(p);
    return;
  }
  await runReceiver(p);
}

/** Workload indexes not sent yet (a reopened socket picks up where it left off). */
function unsent(p: ImpoliteParts): number[] {
  const done = new Set(p.o.sent.map((r) => r.index));
  const out: number[] = [];
  for (let i = 0; i < p.sizes.length; i++) if (!done.has(i)) out.push(i);
  return out;
}

/** Sends item `i` on `ep`: records it, awaits acceptance as a ledger action; false when it failed. */
async function sendItem(p: ImpoliteParts, ep: Endpoint, i: number, ir: ImpoliteRequest): Promise<boolean> {
  const { spec, s, o, env } = p;
  const m = p.payloadOf(spec.name, i);
  const rec = newSentRecord(i, m, s, env);
  o.sent.push(rec);
  const sending = ep.send(m);
  p.sample();
  const action = p.actions.begin(spec.host, spec.name, `send #${i}`, env.nowUs());
  try {
    await sending;
  } catch (e) {
    rec.failedAtUs = env.nowUs();
    rec.error = (e as Error).message;
    rec.errorCode = errorCode(e);
    o.errors.push(`${i}: ${(e as Error).message}`);
    ir.ending = rec.errorCode ?? 'error';
    ir.endedAtUs = env.nowUs();
    return false;
  } finally {
    p.actions.end(action);
  }
  rec.acceptedAtUs = env.nowUs();
  ir.acceptedAtUs = rec.acceptedAtUs;
  p.sample();
  return true;
}

/**
 * Waits until `ended` resolves or `afterUs` passes (undefined: until it ends); true when it ended.
 */
async function waitOrGiveUp(env: Env, ended: Promise<void>, afterUs: number | undefined): Promise<boolean> {
  let over = false;
  if (afterUs === undefined) {
    await ended;
    return true;
  }
  const wake = env.defer<void>();
  let woken = false;
  const wakeOnce = (): void => {
    if (woken) return;
    woken = true;
    wake.resolve();
  };
  const timer = env.setTimer(afterUs, wakeOnce, 'impolite-give-up');
  void ended.then(() => {
    over = true;
    env.clearTimer(timer);
    wakeOnce();
  });
  await wake.promise;
  return over;
}

/**
 * A REQ: item i on lane i mod contexts; each lane sends its items in order and awaits each reply,
 * giving a late one up after abandonAfterUs (the next send on the lane cancels it) or closing its
 * context (a new one takes the rest). A lane's last item is never given up.
 */
async function runRequester(p: ImpoliteParts): Promise<void> {
  const imp = p.spec.app.impolite ?? {};
  const lanes = imp.contexts ?? 1;
  const own = imp.contexts === undefined && imp.closeContextEvery === undefined;
  const items: number[][] = Array.from({ length: lanes }, () => []);
  for (const i of unsent(p)) items[i % lanes]!.push(i);
  await Promise.all(items.map((mine, lane) => runLane(p, lane, mine, own)));
  p.o.doneAtUs = p.env.nowUs();
}

async function runLane(
  p: ImpoliteParts,
  lane: number,
  items: readonly number[],
  own: boolean,
): Promise<void> {
  const { spec, s, o, env } = p;
  const imp = spec.app.impolite ?? {};
  const io = impoliteObs(o);
  const open = (): Endpoint | undefined => {
    if (own) return s;
    try {
      return s.openContext();
    } catch (e) {
      o.errors.push(`lane ${lane}: openContext: ${(e as Error).message}`);
      return undefined;
    }
  };
  let ep = open();
  let generation = 0;
  let prev: ImpoliteRequest | undefined;
  // After giving a request up the next one goes out at once (its gap skipped): abandoned means the
  // next send comes while the reply is still due.
  let gaveUp = false;
  for (let k = 0; k < items.length; k++) {
    const i = items[k]!;
    const gap = gaveUp ? 0 : (p.gaps[i] ?? 0);
    gaveUp = false;
    if (gap > 0) await env.sleep(gap);
    if (ep === undefined) ep = open();
    if (ep === undefined) return;
    const ir = newRequest(i, lane, generation, env);
    io.requests.push(ir);
    // The previous request's receive is still pending: this send cancels it.
    if (prev !== undefined && prev.endedAtUs === null && prev.contextClosedAtUs === null)
      prev.cancelledAtUs = env.nowUs();
    prev = undefined;
    if (!(await sendItem(p, ep, i, ir))) continue;
    const replyAction = p.actions.begin(spec.host, spec.name, `reply to request #${i}`, env.nowUs());
    const ended = ep.recvMsg().then(
      (reply) => {
        o.received.push({
          atUs: env.nowUs(),
          body: reply.body,
          pipe: reply.pipe?.id ?? null,
          replyTo: i,
          ...lastWord(reply.header),
        });
        ir.ending = 'reply';
        ir.endedAtUs = env.nowUs();
        p.actions.end(replyAction);
      },
      (e: unknown) => {
        ir.ending = errorCode(e) ?? 'error';
        ir.endedAtUs = env.nowUs();
        if (ir.cancelledAtUs === null && ir.contextClosedAtUs === null)
          o.errors.push(`reply #${i}: ${(e as Error).message}`);
        p.actions.end(replyAction);
      },
    );
    prev = ir;
    const last = k === items.length - 1;
    if (await waitOrGiveUp(env, ended, last ? undefined : imp.abandonAfterUs)) continue;
    gaveUp = true;
    const every = imp.closeContextEvery;
    if (every !== undefined && (i + 1) % every === 0 && ep !== s) {
      // Close the context under the pending receive; a new context takes the lane's other items.
      ir.contextClosedAtUs = env.nowUs();
      try {
        (ep as Context).close();
      } catch (e) {
        o.errors.push(`lane ${lane}: context close: ${(e as Error).message}`);
      }
      generation++;
      ep = open();
    }
    // Otherwise abandoned: the next send on this context cancels it.
  }
}

/**
 * A SURVEYOR: sends each survey and collects its responses until SURVEY-TIME expires, or starts the
 * next survey after abandonAfterUs (which cancels the pending collection). The last survey runs out.
 */
async function runSurveyor(p: ImpoliteParts): Promise<void> {
  const { spec, s, o, env } = p;
  const imp = spec.app.impolite ?? {};
  const io = impoliteObs(o);
  const items = unsent(p);
  let prev: ImpoliteRequest | undefined;
  let gaveUp = false;
  for (let k = 0; k < items.length; k++) {
    const i = items[k]!;
    const gap = gaveUp ? 0 : (p.gaps[i] ?? 0);
    gaveUp = false;
    if (gap > 0) await env.sleep(gap);
    const ir = newRequest(i, 0, 0, env);
    io.requests.push(ir);
    if (prev !== undefined && prev.endedAtUs === null) prev.cancelledAtUs = env.nowUs();
    prev = undefined;
    if (!(await sendItem(p, s, i, ir))) continue;
    const action = p.actions.begin(spec.host, spec.name, `survey #${i}`, env.nowUs());
    const collect = async (): Promise<void> => {
      for (;;) {
        let m;
        try {
          m = await s.recvMsg();
        } catch (e) {
          const code = errorCode(e);
          ir.ending = code === 'ErrTimedOut' ? 'expired' : (code ?? 'error');
          ir.endedAtUs = env.nowUs();
          if (code !== 'ErrTimedOut' && ir.cancelledAtUs === null)
            o.errors.push(`survey ${i}: ${(e as Error).message}`);
          p.actions.end(action);
          return;
        }
        o.received.push({
          atUs: env.nowUs(),
          body: m.body,
          pipe: m.pipe?.id ?? null,
          replyTo: i,
          ...lastWord(m.header),
        });
      }
    };
    const ended = collect();
    prev = ir;
    const last = k === items.length - 1;
    gaveUp = !(await waitOrGiveUp(env, ended, last ? undefined : imp.abandonAfterUs));
  }
  o.doneAtUs = env.nowUs();
}

/** Any other sender: sends its items in order (then closeAfterSend closes at once). */
async function runSender(p: ImpoliteParts): Promise<void> {
  const { o, env } = p;
  const io = impoliteObs(o);
  for (const i of unsent(p)) {
    const gap = p.gaps[i] ?? 0;
    if (gap > 0) await env.sleep(gap);
    const ir = newRequest(i, 0, 0, env);
    io.requests.push(ir);
    await sendItem(p, p.s, i, ir);
  }
  o.doneAtUs = env.nowUs();
}

/** The application closes the socket itself: a ledger action, with when it was called and ended. */
async function closeSocket(p: ImpoliteParts): Promise<void> {
  const { spec, s, o, env } = p;
  const io = impoliteObs(o);
  io.closeCalledAtUs = env.nowUs();
  o.closedAtUs ??= env.nowUs();
  const action = p.actions.begin(spec.host, spec.name, 'close', env.nowUs());
  try {
    await s.close();
  } catch (e) {
    o.errors.push(`close: ${(e as Error).message}`);
  } finally {
    io.closeEndedAtUs = env.nowUs();
    // What the transport had taken when close() resolved (impolite.close-after-flush).
    const incarnation = o.wire.length - 1;
    io.closeConns = { incarnation, conns: (o.wire[incarnation]?.conns ?? []).map((c) => ({ ...c })) };
    p.actions.end(action);
  }
}

/**
 * One context of a REP echo with contexts: receives (after the app's pauses) and answers on the
 * context, each receive recorded with its lane and when it began and ended.
 */
async function runRepContext(p: ImpoliteParts, lane: number): Promise<void> {
  const { spec, s, o, env } = p;
  const io = impoliteObs(o);
  const recvs = (io.recvs ??= []);
  let ctx;
  try {
    ctx = s.openContext();
  } catch (e) {
    o.errors.push(`context ${lane}: ${(e as Error).message}`);
    return;
  }
  const app = spec.app;
  for (;;) {
    if (app.recvDelayUs !== undefined && app.recvDelayUs > 0) await env.sleep(app.recvDelayUs);
    const rec = { lane, beganAtUs: env.nowUs(), endedAtUs: null as number | null, got: false };
    recvs.push(rec);
    let m;
    try {
      m = await ctx.recvMsg();
    } catch (e) {
      rec.endedAtUs = env.nowUs();
      o.errors.push(`context ${lane} recv: ${(e as Error).message}`);
      return;
    }
    rec.endedAtUs = env.nowUs();
    rec.got = true;
    o.received.push({ atUs: env.nowUs(), body: m.body, pipe: m.pipe?.id ?? null, ...lastWord(m.header) });
    try {
      await ctx.sendMsg(m);
    } catch (e) {
      o.errors.push(`context ${lane} echo: ${(e as Error).message}`);
    }
  }
}

/**
 * A sink or echo receiver (watchRecv): like the runner's, but on a socket that will close
 * (closeAtUs) each receive is a ledger action, and how the receive pending at the close ended is
 * recorded.
 */
async function runReceiver(p: ImpoliteParts): Promise<void> {
  const { spec, s, o, env } = p;
  const io = impoliteObs(o);
  const app = spec.app;
  const lanes = app.impolite?.contexts;
  if (lanes !== undefined && spec.protocol === 'rep0') {
    await Promise.all(Array.from({ length: lanes }, (_x, lane) => runRepContext(p, lane)));
    return;
  }
  const watched = app.impolite?.watchRecv === true && spec.closeAtUs !== undefined;
  for (let n = 0; ; n++) {
    if (app.recvDelayUs !== undefined && app.recvDelayUs > 0) await env.sleep(app.recvDelayUs);
    if (app.stallAtUs !== undefined && app.stallUs !== undefined) {
      const end = app.stallAtUs + app.stallUs;
      const now = env.nowUs();
      if (now >= app.stallAtUs && now < end) await env.sleep(end - now);
    }
    p.sample();
    const action = watched ? p.actions.begin(spec.host, spec.name, `recv #${n}`, env.nowUs()) : undefined;
    let m;
    try {
      m = await s.recvMsg();
    } catch (e) {
      io.recvAtClose = { ending: errorCode(e) ?? 'error', endedAtUs: env.nowUs() };
      o.errors.push(`recv: ${(e as Error).message}`);
      return;
    } finally {
      if (action !== undefined) p.actions.end(action);
    }
    o.received.push({
      atUs: env.nowUs(),
      body: m.body,
      pipe: m.pipe?.id ?? null,
      // REP and RESPONDENT: the request (survey) id the header ends with.
      ...(spec.protocol === 'rep0' || spec.protocol === 'respondent0' ? lastWord(m.header) : {}),
    });
    if (app.kind === 'echo') {
      try {
        const echoing = s.sendMsg(m);
        p.sample();
        await echoing;
      } catch (e) {
        o.errors.push(`echo: ${(e as Error).message}`);
      }
    }
  }
}
