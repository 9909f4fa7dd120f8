/**
 * `netlab interop`: the interop matrix against nngcat (nng) and nanocat (nanomsg) over real loopback
 * TCP and ipc. Each cell runs one conformance exchange between netlab (in this process, on the real
 * runtime) and a peer child process, bounded in time and always reaped (scenarios/sp/interop/matrix.ts, the
 * exchanges in scenarios/sp/interop/cells.ts). Exit codes: 0 every cell passed (skips only for peers that are
 * not installed and not required), 1 a cell failed or ended in error, 2 a usage or internal error.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { performance } from 'node:perf_hooks';
import { writeReportHtml } from '../../reports/html.js';
import { ReportError, type Report } from '../../reports/schema.js';
import { gitCommit, readReportFile, REPORT_JSON, writeReportFiles } from '../../reports/write.js';
import { peerVersion } from '../../scenarios/interop/harness.js';
import {
  PEER_DIALECTS,
  PEER_IDS,
  PROTOCOL_GROUPS,
  PROTOCOL_ORDER,
  ROLES,
  type PeerId,
  type Role,
  type SpProtocol,
} from '../../scenarios/sp/interop/cells.js';
import {
  FAULT_PROFILES,
  FaultsFlagError,
  parseFaultsFlag,
  TRANSPORTS,
  type FaultProfile,
  type Transport,
} from '../../scenarios/sp/interop/faults.js';
import {
  DEFAULT_CELL_TIMEOUT_MS,
  DEFAULT_JOBS,
  DEFAULT_SEED,
  MAX_JOBS,
  CELL_TRACE_EVENTS_MAX,
  matrixCells,
  runMatrix,
  type Cell,
  type CellResult,
} from '../../scenarios/sp/interop/matrix.js';
import {
  cellTraces,
  interopReport,
  mergeInteropInto,
  type InteropRunInfo,
} from '../../scenarios/sp/interop/report.js';
import { intFlag, parseFlags, UsageError, type Command } from './common.js';
import { packageRoot } from '../package-root.js';
import { selectStacks } from './run.js';

/** Stacks whose interop matrix this command runs (the SP peers' cells). */
const INTEROP_STACKS: readonly string[] = ['sp'];

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
function jsonCell(r: CellResult): Record<string, unknown> {
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
  };
}

export const interopCommand: Command = {
  name: 'interop',
  summary: 'the interop matrix: netlab against nngcat and nanocat over real tcp and ipc',
  usage: `usage: netlab interop [--stack ID[,ID]] [--peer nng|nanomsg|all] [--protocol P[,P...]] [--transport tcp|ipc|all]
                      [--role listener|dialer|all] [--faults PROFILE[,PROFILE...]|all] [--quick]
                      [--jobs N] [--cell-timeout DURATION] [--seed S] [--json] [--out DIR] [--list]

Stacks with interop cells: sp (the SP peers nngcat and nanocat). --stack selects stacks (default:
all); a selection without cells runs nothing and says so.
A cell is (peer, netlab's socket type, netlab's role, transport, fault profile): netlab in this
process and the peer as a child process run one conformance exchange (scenarios/sp/interop/cells.ts).
  --peer P         nng (nngcat), nanomsg (nanocat), or all (default all; comma lists accepted)
  --protocol P     netlab's socket type (${PROTOCOL_ORDER.slice(0, 6).join(', ')},
                   ${PROTOCOL_ORDER.slice(6).join(', ')})
                   or a pattern (${Object.keys(PROTOCOL_GROUPS).join(', ')}); default all; comma lists accepted
  --transport T    ${TRANSPORTS.join(', ')} or all (default all)
  --role R         netlab's role: listener (the peer dials) or dialer (the peer listens), or all (default all)
  --faults F       fault profiles between the peers, or all (default all; comma lists accepted):
${FAULT_PROFILES.map((p) => `                     ${p.name}: ${p.summary}`).join('\n')}
  --quick          one cell per peer and socket type, rotating through roles and transports
  --jobs N         cells run at once (default ${DEFAULT_JOBS}, at most ${MAX_JOBS})
  --cell-timeout D bound of one cell: 10s, 500ms, or seconds (default ${DEFAULT_CELL_TIMEOUT_MS / 1000}s);
                   a cell that runs out is an error "timed out after D"
  --seed S         seed of the fault decisions (default ${DEFAULT_SEED})
  --json           print { "cells": [ { peer, protocol, role, transport, faults, status, detail, ... } ] }
  --out DIR        also write DIR/report.json, junit.xml and index.html (a report already in DIR,
                   say from netlab run, keeps its other suites; its interop suite is replaced)
  --list           print the selected cell ids, one per line, and exit
A missing peer skips its cells, or fails them under NETLAB_REQUIRE_PEERS=1.
Exit codes: 0 every cell passed, 1 a cell failed or ended in error, 2 a usage or internal error.`,
  async run(argv) {
    const values = parseInteropFlags(argv);
    const stacks = selectStacks(values.stack);
    if (!stacks.some((s) => INTEROP_STACKS.includes(s.id))) {
      process.stdout.write(
        `netlab interop: no interop cells for stack ${stacks.map((s) => s.id).join(', ')} (stacks with cells: ${INTEROP_STACKS.join(', ')})\n`,
      );
      return 0;
    }
    const plan = planInterop(values);
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
    const versions = await peerVersions(plan.peers);
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
    const count = (s: CellResult['status']): number => results.filter((r) => r.status === s).length;
    const bad = count('fail') + count('error');

    if (values.out !== undefined)
      writeInteropReport(
        values.out,
        existing,
        results,
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
  peers: PeerId[];
  protocols: SpProtocol[];
  transports: Transport[];
  roles: Role[];
  faults: FaultProfile[];
  jobs: number;
  timeoutMs: number;
  seed: string;
  quick: boolean;
  cells: Cell[];
}

/** Validates the selection flags into a plan, in the order their errors are reported. */
function planInterop(values: ReturnType<typeof parseInteropFlags>): InteropPlan {
  const peers = listFlag<PeerId>('peer', values.peer, PEER_IDS);
  const protocols = listFlag<SpProtocol>('protocol', values.protocol, PROTOCOL_ORDER, PROTOCOL_GROUPS);
  const transports = listFlag<Transport>('transport', values.transport, TRANSPORTS);
  const roles = listFlag<Role>('role', values.role, ROLES);
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
  const cells = matrixCells({ peers, protocols, transports, roles, faults, quick });
  if (cells.length === 0)
    throw new UsageError(
      'no cell matches the --peer, --protocol, --transport, --role and --faults given ' +
        '(nanomsg has no pair1; a fault profile may not support every transport)',
    );
  return { peers, protocols, transports, roles, faults, jobs, timeoutMs, seed, quick, cells };
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

/** Each selected peer's program and its version ("not installed" when it is not). */
async function peerVersions(peers: readonly PeerId[]): Promise<Record<string, string>> {
  const versions: Record<string, string> = {};
  for (const p of peers) {
    const command = PEER_DIALECTS[p].command;
    versions[command] = (await peerVersion(command)) ?? 'not installed';
  }
  return versions;
}

/** Runs the cells, printing each one's line in cell order as the jobs finish (traced for --out). */
async function runCells(
  plan: InteropPlan,
  traced: boolean,
  log: (line: string) => void,
): Promise<CellResult[]> {
  const { cells } = plan;
  const done: (CellResult | undefined)[] = new Array<CellResult | undefined>(cells.length);
  let printed = 0;
  const width = Math.max(
    ...cells.map((c) => `${c.peer}/${c.protocol}/${c.role}/${c.transport}/${c.faults}`.length),
  );
  return runMatrix(cells, {
    jobs: plan.jobs,
    timeoutMs: plan.timeoutMs,
    seed: plan.seed,
    ...(traced ? { traceCapacity: CELL_TRACE_EVENTS_MAX } : {}),
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
  results: CellResult[],
  info: InteropRunInfo,
  log: (line: string) => void,
): void {
  // A report from netlab run (or an earlier interop run) stays; only its interop suite is replaced.
  const report = existing === null ? interopReport(results, info) : mergeInteropInto(existing, results, info);
  const merged = existing !== null;
  const written = writeReportFiles(out, report, cellTraces(results, info.seed));
  writeReportHtml(out, report);
  log(
    `report: ${relative(process.cwd(), written.reportJson)}${merged ? ' (interop suite merged into the report there)' : ''}` +
      `  web: ${relative(process.cwd(), join(out, 'index.html'))}`,
  );
}
