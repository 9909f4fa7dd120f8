/**
 * `netlab interop`: every selected stack's interop matrix against third-party peers over real
 * loopback TCP and ipc (for SP: nngcat and nanocat). Each cell runs one conformance exchange
 * between netlab (in this process, on the real runtime) and a peer child process, bounded in time
 * and always reaped. The stacks describe their axes and load their runners (StackInterop,
 * scenarios/stack.ts); the job pool, fault profiles and report are the engine's (scenarios/interop/).
 * Exit codes: 0 every cell passed (skips only for peers that are not installed and not required),
 * 1 a cell failed or ended in error, 2 a usage or internal error.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { performance } from 'node:perf_hooks';
import { writeReportHtml } from '../../reports/html.js';
import { ReportError, type Report } from '../../reports/schema.js';
import { gitCommit, readReportFile, REPORT_JSON, writeReportFiles } from '../../reports/write.js';
import {
  FAULT_PROFILES,
  FaultsFlagError,
  parseFaultsFlag,
  TRANSPORTS,
  type FaultProfile,
  type Transport,
} from '../../scenarios/interop/faults.js';
import {
  CELL_TRACE_EVENTS_MAX,
  DEFAULT_CELL_TIMEOUT_MS,
  DEFAULT_JOBS,
  DEFAULT_SEED,
  MAX_JOBS,
  runMatrix,
  type InteropCell,
  type InteropCellResult,
  type StackInteropRunner,
} from '../../scenarios/interop/matrix.js';
import {
  cellTraces,
  interopReport,
  mergeInteropInto,
  type InteropOutcome,
  type InteropRunInfo,
} from '../../scenarios/interop/report.js';
import type { AnyStack, StackInterop } from '../../scenarios/stack.js';
import { LAB } from '../lab.js';
import { intFlag, parseFlags, UsageError, type Command } from './common.js';
import { packageRoot } from '../package-root.js';
import { selectStacks } from './run.js';

/** A registered stack that has an interop matrix. */
type InteropStack = AnyStack & { interop: StackInterop };

function hasInterop(s: AnyStack): s is InteropStack {
  return s.interop !== undefined;
}

/** Every value of one axis over the given stacks, each once, in stack then matrix order. */
function union(stacks: readonly InteropStack[], axis: (i: StackInterop) => readonly string[]): string[] {
  return [...new Set(stacks.flatMap((s) => axis(s.interop)))];
}

/** The `--protocol` groups of the given stacks (a name two stacks share names both's members). */
function protocolGroups(stacks: readonly InteropStack[]): Record<string, string[]> {
  const groups: Record<string, string[]> = {};
  for (const s of stacks)
    for (const [name, members] of Object.entries(s.interop.protocolGroups))
      groups[name] = [...new Set([...(groups[name] ?? []), ...members])];
  return groups;
}

/** Longest --cell-timeout: a bound on the bound. */
const MAX_CELL_TIMEOUT_MS = 600_000;

/** Parses a comma-separated flag against its accepted values; `all` (or no flag) means every one. */
function listFlag<T extends string>(
  name: string,
  text: string | undefined,
  accepted: readonly T[],
  groups: Readonly<Record<string, readonly T[]>> = {},
): T[] {
  if (text === undefined) return [...accepted];
  const out: T[] = [];
  for (const raw of text.split(',')) {
    const v = raw.trim();
    if (v === '') continue;
    if (v === 'all') return [...accepted];
    const values = groups[v] ?? (accepted.includes(v as T) ? [v as T] : undefined);
    if (values === undefined) {
      const names = [...accepted, ...Object.keys(groups)];
      throw new UsageError(`unknown --${name} '${v}' (accepted: all, ${names.join(', ')})`);
    }
    for (const x of values) if (!out.includes(x)) out.push(x);
  }
  if (out.length === 0) throw new UsageError(`--${name} needs a value, got '${text}'`);
  return out;
}

/** Parses a duration: "10s", "500ms", or a bare number of seconds. */
export function parseDurationMs(name: string, text: string | undefined, fallbackMs: number): number {
  if (text === undefined) return fallbackMs;
  const m = /^(\d+(?:\.\d+)?)(ms|s)?$/.exec(text.trim());
  if (m === null) throw new UsageError(`--${name} must be a duration such as 10s or 500ms, got '${text}'`);
  const ms = Math.round(Number(m[1]) * (m[2] === 'ms' ? 1 : 1000));
  if (ms < 100 || ms > MAX_CELL_TIMEOUT_MS)
    throw new UsageError(`--${name} must be between 100ms and ${MAX_CELL_TIMEOUT_MS / 1000}s, got '${text}'`);
  return ms;
}

function netlabVersion(): string {
  const pkg = JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { version: string };
  return pkg.version;
}

/** The cell as `--json` prints it: the documented fields first, extras after. */
function jsonCell(r: InteropCellResult): Record<string, unknown> {
  return {
    peer: r.peer,
    protocol: r.protocol,
    role: r.role,
    transport: r.transport,
    faults: r.faults,
    status: r.status,
    detail: r.detail,
    id: r.id,
    peerVersion: r.peerVersion,
    durationMs: r.durationMs,
    stack: r.stack,
  };
}

/** Help text of `netlab interop`, from the registered stacks' interop axes. */
function interopUsage(): string {
  const stacks = LAB.stacks.filter(hasInterop);
  const wrap = (values: readonly string[], indent: string): string => {
    const lines: string[] = [];
    let line = '';
    for (const v of values) {
      if (line !== '' && line.length + v.length + 2 > 78 - indent.length) {
        lines.push(line + ',');
        line = '';
      }
      line = line === '' ? v : `${line}, ${v}`;
    }
    lines.push(line);
    return lines.join(`\n${indent}`);
  };
  const pad = '                   ';
  return `usage: netlab interop [--stack ID[,ID]] [--peer P[,P...]|all] [--protocol P[,P...]|all] [--transport tcp|ipc|all]
                      [--role R|all] [--faults PROFILE[,PROFILE...]|all] [--quick]
                      [--jobs N] [--cell-timeout DURATION] [--seed S] [--json] [--out DIR] [--list]

Stacks with interop cells (--stack selects stacks, default all; a selection without cells runs
nothing and says so):
${stacks.map((s) => `  ${s.interop.summary}`).join('\n')}
A cell is (peer, what netlab plays, netlab's role, transport, fault profile): netlab in this process
and the peer as a child process run one conformance exchange.
  --peer P         ${wrap([...union(stacks, (i) => i.peers.map((p) => `${p.id} (${p.command})`))], pad)}
                   or all (default all; comma lists accepted)
  --protocol P     what netlab plays: ${wrap(
    union(stacks, (i) => i.protocols),
    pad,
  )}
                   or a group (${wrap(Object.keys(protocolGroups(stacks)), pad)}); default all; comma lists accepted
  --transport T    ${TRANSPORTS.join(', ')} or all (default all)
  --role R         netlab's role: ${union(stacks, (i) => i.roles).join(', ')} (the peer takes the other), or all (default all)
  --faults F       fault profiles between the peers, or all (default all; comma lists accepted):
${FAULT_PROFILES.map((p) => `                     ${p.name}: ${p.summary}`).join('\n')}
  --quick          one cell per peer and what netlab plays, rotating through roles and transports
  --jobs N         cells run at once (default ${DEFAULT_JOBS}, at most ${MAX_JOBS})
  --cell-timeout D bound of one cell: 10s, 500ms, or seconds (default ${DEFAULT_CELL_TIMEOUT_MS / 1000}s);
                   a cell that runs out is an error "timed out after D"
  --seed S         seed of the fault decisions (default ${DEFAULT_SEED})
  --json           print { "cells": [ { peer, protocol, role, transport, faults, status, detail, ... } ] }
  --out DIR        also write DIR/report.json, junit.xml and index.html (a report already in DIR,
                   say from netlab run, keeps its other suites; its interop suite is replaced)
  --list           print the selected cell ids, one per line, and exit
A missing peer skips its cells, or fails them under NETLAB_REQUIRE_PEERS=1.
Exit codes: 0 every cell passed, 1 a cell failed or ended in error, 2 a usage or internal error.`;
}

export const interopCommand: Command = {
  name: 'interop',
  summary: 'the interop matrix: netlab against third-party peers (nngcat, nanocat...) over real tcp and ipc',
  usage: interopUsage(),
  async run(argv) {
    const values = parseInteropFlags(argv);
    const selected = selectStacks(values.stack);
    const stacks = selected.filter(hasInterop);
    if (stacks.length === 0) {
      process.stdout.write(
        `netlab interop: no interop cells for stack ${selected.map((s) => s.id).join(', ')} (stacks with cells: ${LAB.stacks
          .filter(hasInterop)
          .map((s) => s.id)
          .join(', ')})\n`,
      );
      return 0;
    }
    const plan = await planInterop(values, stacks);
    const { cells } = plan;
    if (values.list) {
      process.stdout.write(
        cells.map((c) => `${c.peer}/${c.protocol}/${c.role}/${c.transport}/${c.faults}`).join('\n') + '\n',
      );
      return 0;
    }

    // A report already in --out is merged into: read it now, so a bad one stops the run before any cell.
    const existing = values.out === undefined ? null : readMergeTarget(values.out);

    const log = (line: string): void => {
      if (!values.json) process.stdout.write(line + '\n');
    };
    const versions = await peerVersions(plan);
    log(
      `netlab interop  cells=${cells.length}${plan.quick ? ' (quick)' : ''}  jobs=${plan.jobs}  cell-timeout=${plan.timeoutMs / 1000}s` +
        `  faults=${plan.faults.map((f) => f.name).join(',')}  seed=${plan.seed}`,
    );
    log(
      `  peers: ${Object.entries(versions)
        .map(([c, v]) => `${c} ${v}`)
        .join(', ')}`,
    );

    const started = performance.now();
    const startedAt = new Date().toISOString();
    // With --out, netlab's side of every cell is traced for the report's viewer.
    const results = await runCells(plan, values.out !== undefined, log);
    const wallMs = performance.now() - started;
    const count = (s: InteropCellResult['status']): number => results.filter((r) => r.status === s).length;
    const bad = count('fail') + count('error');

    if (values.out !== undefined)
      writeInteropReport(
        values.out,
        existing,
        outcomes(plan, results),
        interopRunInfo(plan, versions, startedAt, wallMs),
        log,
      );

    if (values.json) {
      process.stdout.write(JSON.stringify({ cells: results.map(jsonCell) }, null, 2) + '\n');
    } else {
      log(
        `${results.length} cells: ${count('pass')} pass, ${count('fail')} fail, ${count('error')} error, ${count('skip')} skip`,
      );
      log(`took ${(wallMs / 1000).toFixed(1)} s (${Math.min(plan.jobs, cells.length)} at once)`);
    }
    return bad > 0 ? 1 : 0;
  },
};

/** The flags of `netlab interop`, parsed (unknown flags and bad values: UsageError). */
function parseInteropFlags(argv: string[]) {
  return parseFlags(argv, {
    stack: { type: 'string' },
    peer: { type: 'string' },
    protocol: { type: 'string' },
    transport: { type: 'string' },
    role: { type: 'string' },
    faults: { type: 'string' },
    quick: { type: 'boolean' },
    jobs: { type: 'string' },
    'cell-timeout': { type: 'string' },
    seed: { type: 'string' },
    json: { type: 'boolean' },
    out: { type: 'string' },
    list: { type: 'boolean' },
  }).values;
}

/** The cells `netlab interop` runs and how, its flags validated. */
interface InteropPlan {
  stacks: string[];
  /** The runner of each stack with cells. */
  runners: Map<string, StackInteropRunner>;
  peers: string[];
  protocols: string[];
  transports: Transport[];
  roles: string[];
  faults: FaultProfile[];
  jobs: number;
  timeoutMs: number;
  seed: string;
  quick: boolean;
  cells: InteropCell[];
}

/**
 * Validates the selection flags into a plan, in the order their errors are reported. A value is
 * accepted when one of the selected stacks has it; each stack's cells take the values that are its own.
 */
async function planInterop(
  values: ReturnType<typeof parseInteropFlags>,
  stacks: readonly InteropStack[],
): Promise<InteropPlan> {
  const peers = listFlag(
    'peer',
    values.peer,
    union(stacks, (i) => i.peers.map((p) => p.id)),
  );
  const protocols = listFlag(
    'protocol',
    values.protocol,
    union(stacks, (i) => i.protocols),
    protocolGroups(stacks),
  );
  const transports = listFlag<Transport>('transport', values.transport, TRANSPORTS);
  const roles = listFlag(
    'role',
    values.role,
    union(stacks, (i) => i.roles),
  );
  let faults;
  try {
    faults = parseFaultsFlag(values.faults);
  } catch (e) {
    if (e instanceof FaultsFlagError) throw new UsageError(e.message);
    throw e;
  }
  const jobs = intFlag('jobs', values.jobs, DEFAULT_JOBS, 1, MAX_JOBS);
  const timeoutMs = parseDurationMs('cell-timeout', values['cell-timeout'], DEFAULT_CELL_TIMEOUT_MS);
  const seed = values.seed ?? DEFAULT_SEED;
  if (values.seed !== undefined && seed.trim() === '') throw new UsageError('--seed must not be empty');
  const quick = values.quick === true;
  const runners = new Map<string, StackInteropRunner>();
  const cells: InteropCell[] = [];
  for (const s of stacks) {
    const runner = await s.interop.load();
    const own = runner.cells({ peers, protocols, transports, roles, faults, quick });
    if (own.length === 0) continue;
    runners.set(s.id, runner);
    cells.push(...own);
  }
  if (cells.length === 0)
    throw new UsageError(
      'no cell matches the --peer, --protocol, --transport, --role and --faults given ' +
        '(a peer may not have every socket type, e.g. nanomsg has no pair1; a fault profile may not support every transport)',
    );
  const stackIds = stacks.map((s) => s.id).filter((id) => runners.has(id));
  return {
    stacks: stackIds,
    runners,
    peers,
    protocols,
    transports,
    roles,
    faults,
    jobs,
    timeoutMs,
    seed,
    quick,
    cells,
  };
}

/** The runner of a planned cell's stack. */
function runnerOf(plan: InteropPlan, cell: InteropCell): StackInteropRunner {
  const runner = plan.runners.get(cell.stack);
  if (runner === undefined) throw new Error(`no interop runner for stack ${cell.stack}`);
  return runner;
}

/** Each result beside its report case (made by its stack). */
function outcomes(plan: InteropPlan, results: readonly InteropCellResult[]): InteropOutcome[] {
  return results.map((result) => ({ result, case: runnerOf(plan, result).caseOf(result, plan.seed) }));
}

/** The report already in --out (merged into), or null; one netlab cannot merge into is a usage error. */
function readMergeTarget(out: string): Report | null {
  const existingPath = join(out, REPORT_JSON);
  if (!existsSync(existingPath)) return null;
  try {
    return readReportFile(existingPath);
  } catch (e) {
    if (!(e instanceof ReportError)) throw e;
    throw new UsageError(
      `--out ${out} holds a report netlab cannot merge into (${e.message}); remove it or choose another directory`,
    );
  }
}

/** Each selected peer's program and its version ("not installed" when it is not), over the planned stacks. */
async function peerVersions(plan: InteropPlan): Promise<Record<string, string>> {
  const versions: Record<string, string> = {};
  for (const runner of plan.runners.values()) Object.assign(versions, await runner.peerVersions(plan.peers));
  return versions;
}

/** Runs the cells, printing each one's line in cell order as the jobs finish (traced for --out). */
async function runCells(
  plan: InteropPlan,
  traced: boolean,
  log: (line: string) => void,
): Promise<InteropCellResult[]> {
  const { cells } = plan;
  const done: (InteropCellResult | undefined)[] = new Array<InteropCellResult | undefined>(cells.length);
  let printed = 0;
  const width = Math.max(
    ...cells.map((c) => `${c.peer}/${c.protocol}/${c.role}/${c.transport}/${c.faults}`.length),
  );
  const cellOptions = {
    timeoutMs: plan.timeoutMs,
    seed: plan.seed,
    ...(traced ? { traceCapacity: CELL_TRACE_EVENTS_MAX } : {}),
  };
  return runMatrix(cells, (cell) => runnerOf(plan, cell).runCell(cell, cellOptions), {
    jobs: plan.jobs,
    onResult: (r, index) => {
      done[index] = r;
      // Lines in cell order, whatever order the jobs finish in.
      for (; printed < cells.length && done[printed] !== undefined; printed++) {
        const c = done[printed]!;
        const line = `  ${c.status.toUpperCase().padEnd(5)} ${c.id.padEnd(width)}  ${(c.durationMs / 1000).toFixed(1).padStart(5)} s`;
        log(c.status === 'pass' ? line : `${line}\n        ${c.detail}`);
      }
    },
  });
}

/** The run's banner for the report: seed, every knob, the peers' versions, when and how long. */
function interopRunInfo(
  plan: InteropPlan,
  versions: Record<string, string>,
  startedAt: string,
  wallMs: number,
): InteropRunInfo {
  return {
    seed: plan.seed,
    knobs: {
      stacks: plan.stacks.join(','),
      peers: plan.peers.join(','),
      protocols: plan.protocols.join(','),
      transports: plan.transports.join(','),
      roles: plan.roles.join(','),
      faults: plan.faults.map((f) => f.name).join(','),
      seed: plan.seed,
      quick: plan.quick,
      jobs: plan.jobs,
      cellTimeoutMs: plan.timeoutMs,
      ...versions,
    },
    netlabVersion: netlabVersion(),
    commit: gitCommit(process.cwd()),
    startedAt,
    wallMs,
  };
}

/** Writes DIR/report.json, junit.xml and index.html: a new report, or the interop suite merged into `existing`. */
function writeInteropReport(
  out: string,
  existing: Report | null,
  done: readonly InteropOutcome[],
  info: InteropRunInfo,
  log: (line: string) => void,
): void {
  // A report from netlab run (or an earlier interop run) stays; only its interop suite is replaced.
  const cases = done.map((o) => o.case);
  const report = existing === null ? interopReport(cases, info) : mergeInteropInto(existing, cases, info);
  const merged = existing !== null;
  const written = writeReportFiles(out, report, cellTraces(done, info.seed));
  writeReportHtml(out, report);
  log(
    `report: ${relative(process.cwd(), written.reportJson)}${merged ? ' (interop suite merged into the report there)' : ''}` +
      `  web: ${relative(process.cwd(), join(out, 'index.html'))}`,
  );
}
