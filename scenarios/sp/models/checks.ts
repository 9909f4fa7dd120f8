/**
 * The reference models as checks (`model.<name>`, kind 'always'): each folds the run's wire logs
 * (scenarios/sp/models/tap.ts) and the application's sends and receives through its protocol's
 * model and fails with the model's first violation. The existing properties list them where their
 * scenarios run the protocol; the model family (families/model.ts) adds multi-pipe topologies.
 * None rests on exact virtual time: the models judge order and pipes, never when.
 */
import { defineCheck, verdict, type CheckContext, type CheckVerdict, type Observations } from '../checks.js';
import type { Scenario, SocketSpec } from '../model.js';
import { allRuns, type SocketRun } from './core.js';
import { busModel, pubModel, starModel, subModel } from './fanout.js';
import { pairModel } from './pair.js';
import { pipelineModel } from './pipeline.js';
import { requesterModel, responderModel } from './reqrep.js';
import { surveyorModel } from './survey.js';
import { flushModel, wireModel } from './wire.js';

/** Whether the host crashed at some point of the run (its sockets' last incarnation may be cut short). */
function crashed(s: Scenario, ctx: CheckContext): (host: string) => boolean {
  return (host) =>
    ctx.faults.some((rec, i) => {
      const step = s.faults.faults[i] as { host?: string } | undefined;
      return rec.kind === 'crash' && rec.startUs !== null && step?.host === host;
    });
}

/** Runs `model` on every incarnation of every socket whose protocol is in `protocols`. */
function judge(
  s: Scenario,
  obs: Observations,
  ctx: CheckContext,
  protocols: readonly string[],
  expected: string,
  model: (run: SocketRun, spec: SocketSpec) => string | null,
): CheckVerdict {
  let judged = 0;
  for (const { spec, runs } of allRuns(s, obs, crashed(s, ctx))) {
    if (!protocols.includes(spec.protocol)) continue;
    for (const run of runs) {
      judged++;
      const v = model(run, spec);
      if (v !== null) return verdict(`${spec.name}: ${v}`, expected);
    }
  }
  if (judged === 0)
    return { status: 'not-applicable', expected, actual: `no ${protocols.join('/')} socket ran` };
  return verdict(null, expected);
}

defineCheck({
  id: 'model.pipeline',
  kind: 'always',
  requirement:
    'PUSH sends each message once, in order, on an idle pipe, round-robin, never dropping or leaving one waiting while a pipe is idle; PULL delivers what arrived, in order, each once',
  ref: null,
  evaluate: (s, obs, ctx) =>
    judge(
      s,
      obs,
      ctx,
      ['push0', 'xpush0', 'pull0', 'xpull0'],
      'what the pipeline model allows',
      pipelineModel,
    ),
});

defineCheck({
  id: 'model.pair',
  kind: 'always',
  requirement:
    'PAIR (0, 1 mono) keeps one peer at a time, sends each message once, in order, never leaving one waiting while the pipe is idle, and delivers what arrived in order (PAIR1: behind a valid hop count)',
  ref: null,
  evaluate: (s, obs, ctx) =>
    judge(s, obs, ctx, ['pair0', 'xpair0', 'pair1', 'xpair1'], 'what the pair model allows', pairModel),
});

defineCheck({
  id: 'model.pubsub',
  kind: 'always',
  requirement:
    "PUB offers each message to every attached pipe, in order, losing one only where that pipe's queue was full, never leaving an idle pipe behind; SUB delivers only subscribed messages, in arrival order, losing one only at a full queue, an unsubscribe or close",
  ref: null,
  evaluate: (s, obs, ctx) =>
    judge(s, obs, ctx, ['pub0', 'xpub0', 'sub0', 'xsub0'], 'what the pub/sub model allows', (run, spec) =>
      spec.protocol === 'sub0' || spec.protocol === 'xsub0' ? subModel(run) : pubModel(run),
    ),
});

defineCheck({
  id: 'model.bus',
  kind: 'always',
  requirement:
    'BUS offers each message to every attached pipe (XBUS: but its origin), in order, losing one only at a full queue, never relaying (cooked) or echoing; it delivers what arrived, in order, each once',
  ref: null,
  evaluate: (s, obs, ctx) => judge(s, obs, ctx, ['bus0', 'xbus0'], 'what the bus model allows', busModel),
});

defineCheck({
  id: 'model.star',
  kind: 'always',
  requirement:
    'STAR/XSTAR offers each send (cooked: hop count 0; raw: its own 4-byte hop count, else discarded) and each arrival below TTL (hop count + 1) to every pipe but its origin, in order, losing one only at a full queue; it delivers those arrivals, in order, each once, and neither forwards nor delivers one without a hop count or at TTL (sp.md §3 STAR)',
  ref: null,
  evaluate: (s, obs, ctx) => judge(s, obs, ctx, ['star', 'xstar'], 'what the star model allows', starModel),
});

defineCheck({
  id: 'model.reqrep',
  kind: 'always',
  requirement:
    'a REP/XREP/RESPONDENT replies on the pipe its request came from, with its backtrace and body, at most once per request; a REQ transmits only the request the application is waiting on',
  ref: null,
  evaluate: (s, obs, ctx) =>
    judge(
      s,
      obs,
      ctx,
      ['req0', 'rep0', 'xrep0', 'respondent0', 'xrespondent0'],
      'what the req/rep model allows',
      (run) => responderModel(run) ?? requesterModel(run),
    ),
});

defineCheck({
  id: 'model.survey',
  kind: 'always',
  requirement:
    'a SURVEYOR sends each survey with one fresh id to every attached pipe (a full queue misses it) and delivers a response only to the survey that was current when it arrived, once',
  ref: null,
  evaluate: (s, obs, ctx) =>
    judge(s, obs, ctx, ['surveyor0', 'respondent0', 'xrespondent0'], 'what the survey model allows', (run) =>
      run.protocol === 'surveyor0' ? surveyorModel(run) : responderModel(run),
    ),
});

defineCheck({
  id: 'model.wire',
  kind: 'always',
  requirement:
    'what a socket takes from a pipe is exactly a prefix of what the other end wrote to it: in order, each once, intact; a pipe puts on its connection exactly the SP header and the frames it took, and writes all of them before it closes the connection gracefully (a frame a pipe took is flushed, also when LINGER ran out)',
  ref: null,
  evaluate(s, obs, ctx) {
    const runs = allRuns(s, obs, crashed(s, ctx)).flatMap((r) => r.runs);
    return verdict(
      wireModel(runs) ?? flushModel(runs),
      'each pipe delivers a prefix of what was written to it and flushes what it took before its close',
    );
  },
});

/** Every model check, for properties that run several protocols. */
export const MODEL_CHECKS = [
  'model.pipeline',
  'model.pair',
  'model.pubsub',
  'model.bus',
  'model.star',
  'model.reqrep',
  'model.survey',
  'model.wire',
] as const;

/**
 * A model check's id, typed: naming the checks through this keeps this module (and so its
 * defineCheck registrations) in bundles built with `sideEffects: false`, where a bare import of
 * it would be dropped (the browser re-run bundle did, and refused model.* check ids).
 */
export function modelCheck<T extends (typeof MODEL_CHECKS)[number]>(id: T): T {
  return id;
}
