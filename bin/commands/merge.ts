/**
 * `netlab merge DIR... --out DIR`: joins the reports of sharded runs (`netlab run --shard i/n`, one
 * per CI runner) into one report, as if one run had done all the work: suites concatenated by name,
 * museum verdicts and totals recomputed from the union, trace and case files copied. The exit code
 * follows the same rule as `netlab run`, so a merged sharded run gives the verdict of an unsharded
 * one. Field rules: reports/SCHEMA.md ("Shards and netlab merge").
 */
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import {
  createReport,
  ReportError,
  TRACES_DIR,
  type BannerInput,
  type Case,
  type MuseumEntryInput,
  type Report,
} from '../../reports/schema.js';
import {
  readReportFile,
  REPORT_JSON,
  writeFileAtomicSync,
  writeReportFiles,
  type TraceFile,
} from '../../reports/write.js';
import { parseFlags, printJson, UsageError, type Command } from './common.js';
import { exitCodeOf, museumLine } from './run.js';

/** Knobs that legitimately differ between the shards of one run (and mean nothing once merged). */
const PER_SHARD_KNOBS: ReadonlySet<string> = new Set(['shard', 'workers', 'budgetSec']);

/** Folder, relative to report.json, that holds case files (netlab run writes them there). */
const CASES_DIR = 'cases';

interface Input {
  dir: string;
  report: Report;
}

/** Plain files of dir/sub, by name; none when the folder is absent. */
function filesIn(dir: string, sub: string): Map<string, string> {
  const path = join(dir, sub);
  const out = new Map<string, string>();
  if (!existsSync(path)) return out;
  for (const name of readdirSync(path, { withFileTypes: true }))
    if (name.isFile() && !name.name.endsWith('.tmp')) out.set(name.name, join(path, name.name));
  return out;
}

/**
 * A replay command that names a case file of an input (`netlab replay <dir>/cases/<file> ...`)
 * is rewritten to the merged copy, so it still works from the merged report.
 */
function rewriteReplay(replay: string, caseFiles: ReadonlySet<string>, outDir: string): string {
  const m = /^netlab replay (\S*?)cases\/([^/\s]+\.json)(.*)$/s.exec(replay);
  if (m === null || !caseFiles.has(m[2]!)) return replay;
  return `netlab replay ${join(outDir, CASES_DIR, m[2]!)}${m[3]!}`;
}

export interface MergeOutcome {
  report: Report;
  traces: TraceFile[];
  caseFiles: { name: string; content: string }[];
  warnings: string[];
}

/** Merges validated reports (and the files beside them); throws UsageError on inputs that do not fit together. */
export function mergeReports(inputs: readonly Input[], outDir: string): MergeOutcome {
  const [first] = inputs;
  if (first === undefined) throw new UsageError('expected at least one report directory');
  const warnings: string[] = [];
  const where = (i: Input): string => join(i.dir, REPORT_JSON);

  for (const i of inputs) {
    if (i.report.banner.fcSeed !== first.report.banner.fcSeed)
      throw new UsageError(
        `${where(i)}: banner.fcSeed is ${i.report.banner.fcSeed} but ${where(first)} has ${first.report.banner.fcSeed}; shards of one run share one --seed`,
      );
    for (const key of ['netlabVersion', 'commit', 'nodeVersion'] as const)
      if (i.report.banner[key] !== first.report.banner[key])
        warnings.push(
          `${where(i)}: banner.${key} ${JSON.stringify(i.report.banner[key])} differs from ${JSON.stringify(first.report.banner[key])} (${where(first)}); the merged banner keeps the first`,
        );
    const keys = new Set([...Object.keys(i.report.banner.knobs), ...Object.keys(first.report.banner.knobs)]);
    for (const k of keys)
      if (!PER_SHARD_KNOBS.has(k) && i.report.banner.knobs[k] !== first.report.banner.knobs[k])
        warnings.push(
          `${where(i)}: knob ${k}=${JSON.stringify(i.report.banner.knobs[k])} differs from ${JSON.stringify(first.report.banner.knobs[k])} (${where(first)})`,
        );
  }

  // Trace and case files: copied by name; the same name twice must be the same bytes.
  const traces = new Map<string, { content: string; from: string }>();
  const cases = new Map<string, { content: string; from: string }>();
  const caseNamesOf = new Map<Input, Set<string>>();
  for (const i of inputs) {
    for (const [sub, into] of [
      [TRACES_DIR, traces],
      [CASES_DIR, cases],
    ] as const) {
      for (const [name, path] of filesIn(i.dir, sub)) {
        const content = readFileSync(path, 'utf8');
        const seen = into.get(name);
        if (seen !== undefined && seen.content !== content)
          throw new UsageError(`${path} and ${seen.from} have the same name but differ; cannot merge them`);
        into.set(name, { content, from: path });
      }
    }
    caseNamesOf.set(i, new Set(filesIn(i.dir, CASES_DIR).keys()));
  }

  // Suites by name, in first-seen order; a case id may appear twice only as the very same case.
  const suites = new Map<string, Case[]>();
  const byId = new Map<string, { json: string; from: string }>();
  for (const i of inputs) {
    const caseNames = caseNamesOf.get(i)!;
    for (const suite of i.report.suites) {
      const list = suites.get(suite.name) ?? [];
      suites.set(suite.name, list);
      for (const c of suite.cases) {
        const json = JSON.stringify(c);
        const seen = byId.get(c.id);
        if (seen !== undefined) {
          if (seen.json === json) continue;
          throw new UsageError(
            `case ${JSON.stringify(c.id)} is in ${seen.from} and in ${where(i)} with different contents; were these shards of different runs?`,
          );
        }
        byId.set(c.id, { json, from: where(i) });
        list.push({ ...c, replay: rewriteReplay(c.replay, caseNames, outDir) });
      }
    }
  }

  // Museum entries: one per variant, the properties its family ran in any input.
  const museum = new Map<string, MuseumEntryInput & { from: string }>();
  for (const i of inputs) {
    for (const e of i.report.banner.museum) {
      const seen = museum.get(e.impl);
      if (seen === undefined) {
        museum.set(e.impl, {
          impl: e.impl,
          family: e.family,
          summary: e.summary,
          propertiesTotal: e.propertiesTotal,
          properties: [...e.properties],
          from: where(i),
        });
        continue;
      }
      if (seen.family !== e.family || seen.propertiesTotal !== e.propertiesTotal)
        throw new UsageError(
          `${where(i)}: museum entry ${e.impl} (family ${e.family}, ${e.propertiesTotal} properties) disagrees with ${seen.from} (family ${seen.family}, ${seen.propertiesTotal}); were these shards of different runs?`,
        );
      for (const p of e.properties) {
        const other = seen.properties.find((q) => q.id === p.id);
        if (other === undefined) seen.properties.push(p);
        else if (other.failed !== p.failed)
          throw new UsageError(
            `${where(i)}: property ${p.id} of ${e.impl} ${p.failed ? 'failed' : 'passed'} but ${other.failed ? 'failed' : 'passed'} in ${seen.from}`,
          );
      }
    }
  }

  const reports = inputs.map((i) => i.report);
  const b = first.report.banner;
  const runsCounted = reports.every((r) => r.banner.scenarioRuns !== null);
  const wallMs = reports.reduce((sum, r) => sum + r.banner.wallMs, 0);
  const scenarioRuns = runsCounted ? reports.reduce((sum, r) => sum + (r.banner.scenarioRuns ?? 0), 0) : null;
  const banner: BannerInput = {
    simSeed: b.simSeed,
    fcSeed: b.fcSeed,
    knobs: {
      ...Object.fromEntries(Object.entries(b.knobs).filter(([k]) => !PER_SHARD_KNOBS.has(k))),
      merged: inputs.length,
    },
    netlabVersion: b.netlabVersion,
    commit: b.commit,
    nodeVersion: b.nodeVersion,
    startedAt: reports.map((r) => r.banner.startedAt).sort((x, y) => Date.parse(x) - Date.parse(y))[0]!,
    virtualUs: reports.reduce((sum, r) => sum + r.banner.virtualUs, 0),
    // The sum: the compute time spent over every shard (so scenarioRunsPerSec stays per runner).
    wallMs,
    scenarioRuns,
    scenarioRunsPerSec:
      scenarioRuns === null ? null : Math.round((scenarioRuns / Math.max(wallMs, 1)) * 10_000) / 10,
    museum: [...museum.values()].map(({ from: _from, ...e }) => e),
  };
  let report: Report;
  try {
    report = createReport(
      banner,
      [...suites].map(([name, list]) => ({ name, cases: list })),
    );
  } catch (e) {
    if (e instanceof ReportError) throw new UsageError(`the merged report is invalid: ${e.message}`);
    throw e;
  }
  return {
    report,
    traces: [...traces].map(([file, t]) => ({ file, content: t.content })),
    caseFiles: [...cases].map(([name, c]) => ({ name, content: c.content })),
    warnings,
  };
}

export const mergeCommand: Command = {
  name: 'merge',
  summary: 'merge the reports of sharded runs (netlab run --shard i/n) into one; exit as netlab run would',
  usage: `usage: netlab merge DIR... --out DIR [--json]

Reads DIR/report.json of each input (validated), joins suites by name, unions the museum entries
and recomputes verdicts and totals, copies traces/ and cases/, and writes report.json and junit.xml
to --out (atomically). fcSeed must agree; a case id in two inputs must be the same case.
  --out DIR   output directory (required; not one of the inputs)
  --json      print the merged report JSON instead of the summary
Exit codes: 0 no finding, 1 a finding (as netlab run), 2 usage error or a bad or mismatched input.`,
  async run(argv) {
    const { values, positionals } = parseFlags(
      argv,
      { out: { type: 'string' }, json: { type: 'boolean' } },
      true,
    );
    await Promise.resolve(); // a Command is async; merging itself is synchronous file work
    if (positionals.length === 0) throw new UsageError('expected at least one report directory');
    const outDir = values.out;
    if (outDir === undefined || outDir === '') throw new UsageError('--out DIR is required');
    if (positionals.some((d) => resolve(d) === resolve(outDir)))
      throw new UsageError(`--out ${outDir} is one of the inputs; write the merged report elsewhere`);
    const inputs: Input[] = positionals.map((dir) => {
      try {
        return { dir, report: readReportFile(join(dir, REPORT_JSON)) };
      } catch (e) {
        if (e instanceof ReportError) throw new UsageError(e.message);
        throw e;
      }
    });
    const merged = mergeReports(inputs, outDir);
    for (const w of merged.warnings) process.stderr.write(`netlab merge: warning: ${w}\n`);
    if (merged.caseFiles.length > 0) mkdirSync(join(outDir, CASES_DIR), { recursive: true });
    for (const c of merged.caseFiles) writeFileAtomicSync(join(outDir, CASES_DIR, c.name), c.content);
    const written = (() => {
      try {
        return writeReportFiles(outDir, merged.report, merged.traces);
      } catch (e) {
        if (e instanceof ReportError && e.code !== 'ERR_REPORT_IO') throw new UsageError(e.message);
        throw e;
      }
    })();
    const { report } = merged;
    const t = report.banner.totals;
    if (values.json) printJson(report);
    else {
      const log = (line: string): void => void process.stdout.write(line + '\n');
      log(`netlab merge  ${inputs.length} reports  fcSeed=${report.banner.fcSeed}`);
      for (const e of report.banner.museum) log(`  ${museumLine(e)}`);
      log(
        `${t.cases} cases: ${t.pass} pass, ${t.fail} fail, ${t.error} error, ${t.flaky} flaky, ${t.skip} skip` +
          `${report.banner.museum.length > 0 ? `; museum: ${t.caught} caught, ${t.missed} missed of ${report.banner.museum.length}` : ''}; ${t.findings} ${t.findings === 1 ? 'finding' : 'findings'}`,
      );
      log(
        `report: ${relative(process.cwd(), written.reportJson)}  junit: ${relative(process.cwd(), written.junitXml)}`,
      );
    }
    return exitCodeOf(report);
  },
};
