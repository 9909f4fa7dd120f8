/**
 * The one interface through which a protocol stack plugs into the lab. The engine (runner,
 * substrates, checks, shrink and replay, campaign, fuzz and bench harnesses, interop harness, report
 * writer, viewer) knows stacks only through it; a stack's lab folder (scenarios/<id>/) implements it,
 * and scenarios/stacks.ts lists every stack, explicitly. Isomorphic: the browser re-run uses it too.
 *
 * Two layers: `StackCore` is what running one scenario needs (parse its fields, boot its actors on
 * hosts, observe, judge); `StackPlugin` adds what the lab's commands need (property families, museum
 * variants, "sometimes" conditions, parity cases, fuzz targets, benches, interop, viewer decoders).
 */
import type { Env } from '../impl/runtime/env.js';
import type { FuzzTarget } from '../fuzz/target.js';
import type { TimeAudit, TraceEvent, TraceField } from '../sim/trace.js';
import type { FaultRecord } from '../sim/fault-plan.js';
import type { ByteAudit, LinkAudit } from '../sim/net.js';
import type { EventOrderAudit } from '../sim/world.js';
import type { FamilySpec } from './catalog.js';
import type { Scenario } from './model.js';
import type { ScenarioResult } from './runner.js';
import type { StackInteropRunner } from './interop/matrix.js';
import type { PendingAction } from './actions.js';

export type CheckKind = 'always' | 'eventually';
export type CheckStatus = 'pass' | 'fail' | 'not-applicable';

export interface CheckResult {
  id: string;
  kind: CheckKind;
  requirement: string;
  status: CheckStatus;
  expected: string | null;
  actual: string | null;
}

/**
 * The simulator's own accounts at the end of a run, which the engine's self-checks judge
 * (scenarios/checks.ts, SELF_CHECK_IDS): virtual time as the trace was stamped, the world's clock,
 * and the network's byte accounts per connection and direction.
 */
export interface SimAudit {
  time: TimeAudit;
  /** The world's clock when the run ended, in µs. */
  clockUs: number;
  bytes: ByteAudit;
  /** The scheduler's order audit (sim.events-in-order). */
  events: EventOrderAudit;
  /** The network model's rules per segment (sim.link-model). */
  links: LinkAudit;
}

/** What every check may read besides the stack's observations. */
export interface CheckContext {
  endUs: number;
  healedAtUs: number;
  faults: FaultRecord[];
  /** Why the run stopped ("until", "idle", "settled", "crash"...). */
  reason: string;
  /** True when a fault that destroys accepted data (reset, crash, restart) fired. */
  lossy: boolean;
  /** Where the scenario ran (default "sim"); on "real", checks marked `timing` are not judged. */
  runtime?: 'sim' | 'real';
  /** An event threw: the stack under test crashed (the run stopped there), or null. */
  crash: string | null;
  /**
   * Application actions begun and not ended when the run stopped (StackRun.pending); absent when
   * the stack does not record its actions.
   */
  pending?: readonly PendingAction[];
  /** The simulator's own accounts (set on the simulated network only): what the self-checks judge. */
  sim?: SimAudit;
}

export interface CheckVerdict {
  status: CheckStatus;
  expected: string | null;
  actual: string | null;
}

/**
 * A named invariant with a stable id (a report and a case file name it), the requirement it enforces,
 * the reference checklist id where one exists, and always / eventually semantics. "always" checks
 * must hold whatever the faults; "eventually" checks once every fault has healed and the liveness
 * phase has passed.
 */
export interface CheckDef<S = Scenario, O = unknown, C extends CheckContext = CheckContext> {
  id: string;
  kind: CheckKind;
  requirement: string;
  /** Reference checklist id (e.g. sp.md §8), or null. */
  ref: string | null;
  /**
   * True when the verdict rests on exact timing (a bound in microseconds, "promptly", a backoff
   * gap): judged on the simulated network only. Over real sockets such a check is not-applicable,
   * since the host's scheduler, not the protocol, decides those times there.
   */
  timing?: boolean;
  evaluate(scenario: S, obs: O, ctx: C): CheckVerdict;
}

/** One scenario's actors on their hosts, as a stack runs them; the engine drives its life cycle. */
export interface StackRun<O, C extends CheckContext> {
  /** What the actors recorded; checks read it once the run is over. */
  readonly observations: O;
  /** Starts the actors of `host` on its runtime (again after a simulated restart, on a fresh env). */
  boot(host: string, env: Env): void;
  /** The run is over (or crashed): fold counters kept inside the stack into the observations. */
  finish(crash: string | null): void;
  /** A counter that moves whenever the actors record something: a real run ends once it stops. */
  activity(): number;
  /** True once the workload is done and every connection the scenario wants is up. */
  settled(): boolean;
  /** The stack's check context: the engine's, plus whatever its checks need (expected payloads). */
  context(base: CheckContext): C;
  /**
   * The application actions still pending (scenarios/actions.ts: sends, requests awaiting a reply,
   * surveys, closes), for `stack.workload-completes`. Absent: the stack does not record them.
   */
  pending?(): readonly PendingAction[];
}

/** An implementation variant of a stack: a museum bug composed from the real stack, or a test double. */
export interface ImplInfo {
  summary: string;
  /** The invariant family meant to catch it (null: netlab itself). */
  family: string | null;
}

/** What running one scenario of a stack needs. */
export interface StackCore<
  S extends Scenario = Scenario,
  O = unknown,
  C extends CheckContext = CheckContext,
> {
  /** Stable id: `netlab run --stack ID`, the `stack` field of scenarios and report cases. */
  readonly id: string;
  /**
   * Validates the stack's own fields of a scenario whose envelope (`base`) is already valid; `json`
   * is the whole object. Errors are ScenarioError naming the JSON path of the first bad field.
   */
  parseScenario(base: Scenario, json: Record<string, unknown>): S;
  /** Boots nothing yet: creates the run's actors for one implementation (throws for an unknown one). */
  start(scenario: S, impl: string): StackRun<O, C>;
  /** The stack's checks by id (engine checks such as stack.no-crash come on top). */
  checks(): ReadonlyMap<string, CheckDef<S, O, C>>;
  /** Implementation variants by name ("museum/..."), besides "netlab" itself. */
  impls(): ReadonlyMap<string, ImplInfo>;
  /** The transports a scenario's addresses use (for the report's `transport` field). */
  transportsOf(scenario: S): string[];
  /** The protocols a scenario's actors speak (for the report's `protocol` field). */
  protocolsOf(scenario: S): string[];
  /**
   * The last moment the scenario schedules something (an actor starting or closing, a stall ending,
   * a send after its gaps, the end of the fault phase when there are faults), in µs: a real run lasts
   * at least this long before a quiet window may end it.
   */
  scheduledUntilUs(scenario: S): number;
}

/** A "sometimes" condition: it should hold in some run, or a property is not testing what it claims. */
export interface SometimesDef<O = unknown> {
  id: string;
  text: string;
  seen(result: ScenarioResult<O>): boolean;
}

/**
 * What the application saw in one run, comparable across runtimes: named parts (a stack's choice,
 * e.g. "received.<socket>": per sender, the messages received in order), check verdicts, and whether
 * the stack crashed. Timings never are part of it.
 */
export interface ParityOutcome {
  parts: Record<string, unknown>;
  /** Per check: its verdict. */
  checks: Record<string, string>;
  crashed: boolean;
}

/** One parity case: a scenario whose protocol-level outcome does not depend on timing. */
export interface ParityCase<S extends Scenario = Scenario> {
  name: string;
  /** What the case shows, for the report. */
  title: string;
  scenario: S;
  /** Parts of the outcome known to differ between the runtimes, and why (default none). */
  knownDifferences?: { part: string; why: string }[];
}

/** A stack's parity suite (netlab parity). */
export interface StackParity<S extends Scenario = Scenario, O = unknown> {
  cases(): ParityCase<S>[];
  /** The outcome of a run of `scenario`, as parity compares it. */
  outcome(scenario: S, result: ScenarioResult<O>): ParityOutcome;
}

/** An integer flag of a benchmark (`netlab bench NAME --flag N`). */
export interface BenchFlag {
  name: string;
  help: string;
  defaultValue: number;
  min: number;
  max?: number;
}

/** What a benchmark run gives back: the JSON figures, whether every goal was met, a summary text. */
export interface BenchOutcome {
  /** Printed by --json: figures, their baselines, ratios and goals. */
  result: object;
  meetsGoal: boolean;
  /** The human-readable summary (lines, each figure beside its baseline). */
  text: string;
}

/**
 * A benchmark (`netlab bench NAME`): it always measures its baseline (a bare limit or a peer) in the
 * same run and reports the ratio. Benchmarks drive real sockets or clocks: `run` loads its Node-only
 * code on demand, so the plugin itself stays isomorphic.
 */
export interface BenchDef {
  name: string;
  /** Help lines: what it measures against what. */
  summary: string;
  flags: readonly BenchFlag[];
  run(o: { repeats: number; flags: Record<string, number> }): Promise<BenchOutcome>;
}

/** A fuzz implementation a target can be bound to (`netlab fuzz TARGET --impl NAME`). */
export interface FuzzImpl {
  name: string;
  summary: string;
}

/** A stack's wire-framing fuzz targets and the implementations they may be bound to. */
export interface StackFuzz {
  targets: readonly FuzzTarget[];
  /** Implementations for targets that take one (`FuzzTarget.takesDecoderImpl`), netlab first. */
  impls(): ReadonlyMap<string, FuzzImpl>;
}

/** A third-party peer program of a stack's interop matrix. */
export interface InteropPeer {
  /** The `--peer` value: the library it ships with, e.g. "nng". */
  id: string;
  /** The program netlab runs, e.g. "nngcat". */
  command: string;
}

/**
 * A stack's interop matrix (netlab interop): its axes as plain data, for flags and help, and its
 * runner (the cells, running one, its report case) loaded on demand, because it starts peer
 * processes: the plugin itself stays isomorphic.
 */
export interface StackInterop {
  /** Help lines for `netlab interop --help`: the peers and what one cell exchanges. */
  summary: string;
  /** Its peers, in matrix order. */
  peers: readonly InteropPeer[];
  /** What netlab plays against them (`--protocol`: socket types, client or server kinds), in matrix order. */
  protocols: readonly string[];
  /** Names `--protocol` also accepts for several of them (e.g. "reqrep"). */
  protocolGroups: Readonly<Record<string, readonly string[]>>;
  /** How netlab takes part in a connection (`--role`), e.g. listener and dialer. */
  roles: readonly string[];
  load(): Promise<StackInteropRunner>;
}

/** A msg-send or msg-recv event: what a message decoder reads. */
export type MessageEvent = Extract<TraceEvent, { kind: 'msg-send' | 'msg-recv' }>;

/** One field as the viewer's message pane shows it: its byte range, its value, its bytes if known. */
export interface DecodedField extends TraceField {
  /**
   * The field's `length` bytes as far as the decoder can tell them from the trace (which records
   * values, not raw bytes): a number per known byte, null per unknown one. Absent: all unknown.
   */
  bytes?: readonly (number | null)[];
}

export interface DecodedMessage {
  fields: DecodedField[];
  /** One sentence on where the shown bytes come from (e.g. "re-encoded big-endian from the values"). */
  bytesNote?: string;
}

/**
 * A stretch of one host's work the diagram shades on that host's column (e.g. an onRequest
 * invocation), from the event that opened it to the one that closed it.
 */
export interface ViewerSpan {
  /** Trace indices of its first and last event; the host is the first event's. */
  startEvent: number;
  endEvent: number;
  label: string;
}

/** A stack's decoder for the viewer's message pane, and the spans its trace notes describe. */
export interface MessageDecoder {
  /** The stack it belongs to (shown in the pane), e.g. "sp". */
  stack: string;
  /** The `proto` values of the messages it decodes (e.g. "req0", "pair1"). */
  protos: readonly string[];
  decode(event: MessageEvent): DecodedMessage;
  /** Spans of work the stack's events delimit, for the diagram (absent: none). */
  spans?(events: readonly TraceEvent[]): ViewerSpan[];
}

/** A stack as the lab's commands see it. */
export interface StackPlugin<
  S extends Scenario = Scenario,
  O = unknown,
  C extends CheckContext = CheckContext,
> extends StackCore<S, O, C> {
  /** One line for `netlab run --list-stacks`. */
  readonly title: string;
  /** The stack's invariant families, in report order. */
  readonly families: readonly FamilySpec[];
  /** Its "sometimes" conditions (properties name the ids they should exercise). */
  readonly sometimes: readonly SometimesDef<O>[];
  /** Its parity suite (netlab parity), if it has one. */
  readonly parity?: StackParity<S, O>;
  /** Its fuzz targets (netlab fuzz), if it has any. */
  readonly fuzz?: StackFuzz;
  /** Its interop matrix against third-party peers (netlab interop), if it has one. */
  readonly interop?: StackInterop;
  /** Its benchmarks (netlab bench), if it has any. */
  readonly benches?: readonly BenchDef[];
  /** How the viewer's message pane decodes its messages (also listed in VIEWER_DECODERS). */
  readonly viewer?: MessageDecoder;
  /** Protocols its properties cover (for `netlab run --protocol`). */
  protocols(): string[];
}

/**
 * A stack of any shape, as the registry holds them. The parameters are erased (`any`) because the
 * registry is heterogeneous: the engine only ever hands a stack the scenarios it parsed itself, so
 * no stack sees another's types.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyStack = StackPlugin<any, any, any>;
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyStackCore = StackCore<any, any, any>;
