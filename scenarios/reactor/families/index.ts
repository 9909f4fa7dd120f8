/**
 * The reactor stack's invariant families (#19 Lab): reactor-callbacks, reactor-output,
 * reactor-timeouts, reactor-backpressure, reactor-balance, each one property under latency, partial
 * writes, peer stalls and resets (the engine's networkArb and faultStepArb), on the simulator; checks
 * without `timing` also hold on real sockets.
 */
import fc from 'fast-check';
import type { FamilySpec, PropertySpec } from '../../catalog.js';
import type { GeneratedFaultKind } from '../../generators.js';
import {
  boundaryArb,
  dataAction,
  endingArb,
  reactorScenarioArb,
  REACTOR_TRANSPORTS,
  type ReactorArbOptions,
} from '../generators.js';
import type { ClientAction, HandlerKind, ReactorScenario } from '../model.js';

const FAULTS: readonly GeneratedFaultKind[] = ['partition', 'stall-reads', 'pause', 'reset'];

/** A script: 1..n data actions, read pauses or idles between them, then an ending. */
function script(
  handler: HandlerKind,
  bytes: fc.Arbitrary<number>,
  o: { maxData?: number; pauseUs?: number; idleUs?: number } = {},
): fc.Arbitrary<ClientAction[]> {
  const between: fc.Arbitrary<ClientAction>[] = [
    dataAction(handler, bytes),
    dataAction(handler, bytes),
    fc.constant<ClientAction>({ kind: 'read', forUs: 200_000 }),
  ];
  if ((o.pauseUs ?? 0) > 0)
    between.push(
      fc
        .integer({ min: 1, max: o.pauseUs! })
        .map((forUs): ClientAction => ({ kind: 'pause-reading', forUs })),
    );
  if ((o.idleUs ?? 0) > 0)
    between.push(
      fc.integer({ min: 1, max: o.idleUs! }).map((forUs): ClientAction => ({ kind: 'idle', forUs })),
    );
  return fc
    .tuple(fc.array(fc.oneof(...between), { minLength: 1, maxLength: o.maxData ?? 4 }), endingArb)
    .map(([a, b]) => [...a, ...b]);
}

function property(
  family: string,
  title: string,
  checks: readonly string[],
  sometimes: readonly string[],
  arb: Omit<ReactorArbOptions, 'impl' | 'transports' | 'name' | 'checks' | 'faultKinds'>,
): PropertySpec<ReactorScenario> {
  const spec: PropertySpec<ReactorScenario> = {
    id: `${family}/sim`,
    family,
    title,
    protocols: ['reactor'],
    transports: REACTOR_TRANSPORTS,
    checks: ['stack.no-crash', 'stack.workload-completes', ...checks],
    faultKinds: FAULTS,
    sometimes,
    arb: ({ impl, transports }) =>
      reactorScenarioArb({ impl, transports, name: family, checks: spec.checks, faultKinds: FAULTS, ...arb }),
  };
  return spec;
}

const idleOption = fc.integer({ min: 50, max: 400 }).map((ms) => ms * 1000);

export const CALLBACKS = property(
  'reactor-callbacks',
  'callbacks ordered and exactly once; every input handled, send-then-close included',
  ['reactor.callback-order', 'reactor.input-handled', 'reactor.spin-bounded', 'reactor.output-in-order'],
  ['reactor.spin-closed', 'reactor.send-then-close', 'net.partial-write'],
  {
    handlers: ['echo', 'framed', 'peek', 'slow'],
    maxClients: 3,
    handlerUs: fc.integer({ min: 0, max: 2000 }),
    options: fc.record({
      idleTimeoutUs: idleOption,
      maxUnconsumedRuns: boundaryArb(8).map((n) => Math.max(1, n)),
    }),
    script: (h) => script(h, boundaryArb(2048)),
  },
);

export const OUTPUT = property(
  'reactor-output',
  'output in order, exactly once, also after write timeouts; write interest iff bytes remain; one flusher',
  ['reactor.output-in-order', 'reactor.output-complete', 'reactor.write-interest'],
  ['reactor.write-interest', 'reactor.write-timeout', 'net.partial-write'],
  {
    handlers: ['framed', 'echo'],
    maxClients: 2,
    options: fc.record({
      idleTimeoutUs: idleOption,
      outputHighWaterBytes: boundaryArb(1024),
      writeTimeoutUs: fc.integer({ min: 5, max: 60 }).map((ms) => ms * 1000),
      inputHighWaterBytes: fc.constant(64 * 1024),
    }),
    script: (h) => script(h, fc.integer({ min: 0, max: 12 * 1024 }), { pauseUs: 150_000, maxData: 5 }),
  },
);

export const TIMEOUTS = property(
  'reactor-timeouts',
  'idle connections close at idleTimeout + one tick of their last byte, never earlier; read timeouts only in blocking reads',
  ['reactor.idle-timeout', 'reactor.read-timeout', 'reactor.callback-order'],
  ['reactor.idle-closed', 'reactor.read-timed-out'],
  {
    handlers: ['echo', 'framed'],
    maxClients: 2,
    options: fc.record({
      idleTimeoutUs: fc.integer({ min: 20, max: 120 }).map((ms) => ms * 1000),
      readTimeoutUs: fc.integer({ min: 10, max: 100 }).map((ms) => ms * 1000),
    }),
    // Raw sends of a few bytes give the framed handler part of a header or frame: its blocking
    // read then waits, and times out when the client idles past readTimeoutUs.
    script: (h) =>
      fc
        .tuple(
          fc.array(
            fc.oneof(
              dataAction(h, boundaryArb(512)),
              fc.integer({ min: 1, max: 6 }).map((bytes): ClientAction => ({ kind: 'send', bytes })),
              fc.integer({ min: 1, max: 150_000 }).map((forUs): ClientAction => ({ kind: 'idle', forUs })),
            ),
            { minLength: 1, maxLength: 4 },
          ),
          endingArb,
        )
        .map(([a, b]) => [...a, ...b]),
  },
);

export const BACKPRESSURE = property(
  'reactor-backpressure',
  'input held never above the high-water mark + one read; a stalled handler blocks its peer; nothing lost when it resumes',
  [
    'reactor.input-bounded',
    'reactor.stall-blocks-peer',
    'reactor.output-in-order',
    'reactor.output-complete',
  ],
  ['reactor.read-paused', 'reactor.peer-blocked'],
  {
    handlers: ['stall'],
    maxClients: 2,
    handlerUs: fc.integer({ min: 20, max: 200 }).map((ms) => ms * 1000),
    options: fc.integer({ min: 512, max: 4096 }).chain((high) =>
      fc.record({
        idleTimeoutUs: fc.constant(1_000_000),
        inputHighWaterBytes: fc.constant(high),
        maxInputBytes: fc.constant(64 * high),
      }),
    ),
    script: (h) => script(h, fc.integer({ min: 0, max: 24 * 1024 }), { maxData: 3 }),
  },
);

export const BALANCE = property(
  'reactor-balance',
  'round-robin spreads connections within 1, least-connections picks an emptiest loop, a slow loop delays only its own connections',
  ['reactor.balance-spread', 'reactor.loop-isolation', 'reactor.callback-order'],
  ['reactor.loops-busy'],
  {
    handlers: ['slow', 'echo'],
    maxClients: 6,
    handlerUs: fc.integer({ min: 0, max: 20_000 }),
    options: fc.record({
      idleTimeoutUs: idleOption,
      loops: fc.integer({ min: 2, max: 4 }),
      loadBalance: fc.constantFrom('round-robin' as const, 'least-connections' as const),
      costUsPerRequest: fc.integer({ min: 0, max: 3000 }),
    }),
    script: (h) => script(h, fc.integer({ min: 0, max: 2048 }), { idleUs: 30_000, maxData: 3 }),
  },
);

function family(p: PropertySpec<ReactorScenario>): FamilySpec<ReactorScenario> {
  return { name: p.family, title: p.title, properties: [p] };
}

export const REACTOR_FAMILIES: readonly FamilySpec<ReactorScenario>[] = [
  family(CALLBACKS),
  family(OUTPUT),
  family(TIMEOUTS),
  family(BACKPRESSURE),
  family(BALANCE),
];
