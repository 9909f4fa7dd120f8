/**
 * The report page (runs in the browser, bundled by web/build.mjs and inlined by reports/html.ts):
 * run banner, conformance matrix, query bar and case pages, from the data the builder embedded.
 * Every rendering stage is wrapped so a bad input shows up in the problems banner while the rest
 * still renders: the page never goes blank. No network: data is inline or in <script src> files.
 * Knows no stack: the bootstrap (web/app-entry.ts) starts it with each stack's message decoder.
 */
import type { Manifest, TraceEntry } from '../reports/html.js';
import { byId, h, inflate, message } from './dom.js';
import type { MessageDecoder } from './message-decoder.js';
import { openViewer, type NetlabRunner, type ViewerHandle } from './viewer.js';
import {
  buildMatrix,
  checkReport,
  columnOf,
  emptyTotals,
  formatHash,
  formatUs,
  isCoverageCase,
  matches,
  parseHash,
  parseQuery,
  propertyOf,
  STATUS_LABEL,
  STATUSES,
  summarizeTrace,
  type Banner,
  type Case,
  type Matrix,
  type Row,
  type Totals,
  type ViewState,
} from './model.js';

declare global {
  interface Window {
    /** Folder mode: set by index.data/report.js. */
    netlabReport?: unknown;
    /** Folder mode: called by each index.data/trace-N.js. */
    netlabTraceLoaded?: (path: string, b64: string) => void;
    /** Set by the re-run bundle (web/rerun-entry.ts) once the viewer has loaded it. */
    netlabRunner?: NetlabRunner;
  }
}

/** What the bootstrap hands the page. */
export interface ReportPageOptions {
  /** Each stack's decoder for the viewer's message pane. */
  decoders: readonly MessageDecoder[];
}

/** Rows rendered at most; a bigger matrix says so and asks for a narrower query. */
const MAX_ROWS = 2000;

// ---------------------------------------------------------------------------------------------
// State
// ---------------------------------------------------------------------------------------------

const problems: string[] = [];
let decoders: readonly MessageDecoder[] = [];
let manifest: Manifest = { mode: 'single', reportScript: null, traces: {}, problems: [] };
let banner: Partial<Banner> = {};
let suites: { name: string; cases: Case[] }[] = [];
const caseById = new Map<string, { c: Case; suite: string }>();
let matrix: Matrix = { impls: [], groups: [] };
let view: ViewState = {
  query: '',
  caseId: null,
  coverage: false,
  viewer: false,
  tUs: null,
  msg: null,
  filter: '',
};
/** The open viewer, if any (destroyed when the view changes). */
let viewerHandle: ViewerHandle | null = null;
/** The element that had focus when the case page opened, to give it back on close. */
let returnFocusTo: string | null = null;

/** Runs one rendering stage; a throw becomes a problem in the banner, and the page goes on. */
function stage(name: string, fn: () => void): void {
  try {
    fn();
  } catch (e) {
    problems.push(`${name}: ${message(e)}`);
    console.warn(`netlab report: ${name} failed`, e);
  }
}

function renderProblems(): void {
  const box = byId('problems');
  if (box === null) return;
  box.replaceChildren();
  box.hidden = problems.length === 0;
  if (problems.length === 0) return;
  box.append(
    h(
      'strong',
      {},
      `This report has ${problems.length} problem${problems.length === 1 ? '' : 's'}; everything else is shown below.`,
    ),
    h('ul', {}, ...problems.map((p) => h('li', {}, p))),
  );
}

// ---------------------------------------------------------------------------------------------
// Loading the embedded data
// ---------------------------------------------------------------------------------------------

function loadData(): void {
  stage('manifest', () => {
    const text = byId('netlab-manifest')?.textContent;
    if (text === undefined || text === null) throw new Error('no <script id="netlab-manifest"> in the page');
    manifest = JSON.parse(text) as Manifest;
    problems.push(...manifest.problems);
  });
  let json: unknown = null;
  stage('report data', () => {
    if (manifest.mode === 'folder') {
      if (window.netlabReport === undefined)
        throw new Error(
          `${manifest.reportScript ?? 'the report data file'} did not load (is the index.data folder beside index.html?)`,
        );
      json = window.netlabReport;
    } else {
      const text = byId('netlab-report')?.textContent;
      if (text === undefined || text === null) throw new Error('no embedded report in the page');
      json = JSON.parse(text);
    }
  });
  stage('report', () => {
    const checked = checkReport(json);
    problems.push(...checked.problems);
    banner = checked.report.banner;
    suites = checked.report.suites;
    for (const s of suites) for (const c of s.cases) caseById.set(c.id, { c, suite: s.name });
  });
}

/** Decoded traces by path (a promise, so a second click waits for the first decode). */
const traceCache = new Map<string, Promise<string>>();
const folderWaiters = new Map<string, (b64: string) => void>();

function loadFolderScript(path: string, src: string): Promise<string> {
  return new Promise((resolve, reject) => {
    folderWaiters.set(path, resolve);
    const script = h('script', { src });
    script.onerror = () =>
      reject(new Error(`${src} did not load (is the index.data folder beside index.html?)`));
    document.body.append(script);
  });
}

/** The text of a trace, decoded on first use. Rejects with a message saying what is wrong. */
function loadTrace(path: string): Promise<string> {
  let p = traceCache.get(path);
  if (p === undefined) {
    const entry: TraceEntry | undefined = manifest.traces[path];
    p = (async () => {
      if (entry === undefined) throw new Error(`trace ${path} is not in this page`);
      if ('missing' in entry) throw new Error(`trace ${path} is missing: ${entry.missing}`);
      let b64: string;
      if (manifest.mode === 'folder') b64 = await loadFolderScript(path, entry.ref);
      else {
        const text = byId(entry.ref)?.textContent;
        if (text === undefined || text === null)
          throw new Error(`trace ${path}: its data element is missing`);
        b64 = text.trim();
      }
      try {
        return await inflate(b64);
      } catch (e) {
        throw new Error(`trace ${path} is corrupt (cannot inflate it: ${message(e)})`, { cause: e });
      }
    })();
    traceCache.set(path, p);
  }
  return p;
}

window.netlabTraceLoaded = (path, b64) => {
  folderWaiters.get(path)?.(b64);
  folderWaiters.delete(path);
};

// ---------------------------------------------------------------------------------------------
// Run banner
// ---------------------------------------------------------------------------------------------

function show(v: unknown): string {
  if (v === undefined) return '(missing)';
  return typeof v === 'string' ? v : JSON.stringify(v);
}

function totalsLine(t: Totals): HTMLElement {
  return h(
    'ul',
    { class: 'totals' },
    h('li', {}, `${t.cases} cases`),
    ...STATUSES.map((s) =>
      h(
        'li',
        { class: `chip s-${s}` },
        h('span', { 'aria-hidden': 'true' }, STATUS_LABEL[s].icon),
        ` ${t[s]} ${STATUS_LABEL[s].text}`,
      ),
    ),
  );
}

function renderBanner(): void {
  const b = banner;
  const virtualUs = typeof b.virtualUs === 'number' ? b.virtualUs : null;
  const wallMs = typeof b.wallMs === 'number' ? b.wallMs : null;
  const ratio = virtualUs !== null && wallMs !== null && wallMs > 0 ? virtualUs / 1000 / wallMs : null;
  const commit = show(b.commit);
  const fields: [string, string][] = [
    ['simSeed', show(b.simSeed)],
    ['fcSeed', show(b.fcSeed)],
    ['netlab', show(b.netlabVersion)],
    ['node', show(b.nodeVersion)],
    ['commit', commit],
    ['started', show(b.startedAt)],
    [
      'virtual vs wall time',
      `${virtualUs === null ? '?' : formatUs(virtualUs)} simulated in ${wallMs === null ? '?' : `${(wallMs / 1000).toFixed(2)} s`}` +
        (ratio === null ? '' : ` (${ratio.toFixed(1)} × real time)`),
    ],
  ];
  const knobs =
    b.knobs !== undefined && typeof b.knobs === 'object' && b.knobs !== null ? Object.entries(b.knobs) : [];
  const computed = emptyTotals();
  for (const s of suites)
    for (const c of s.cases) {
      computed.cases++;
      computed[c.status]++;
    }
  byId('banner')?.replaceChildren(
    h('h1', {}, 'netlab report'),
    h(
      'dl',
      { class: 'fields' },
      ...fields.flatMap(([k, v]) => [h('dt', {}, k), h('dd', { 'data-field': k }, v)]),
    ),
    h(
      'details',
      { class: 'knobs', open: true },
      h('summary', {}, `Knobs (${knobs.length})`),
      h('dl', { class: 'fields' }, ...knobs.flatMap(([k, v]) => [h('dt', {}, k), h('dd', {}, show(v))])),
    ),
    totalsLine(b.totals ?? computed),
    ...museumLines(b),
  );
}

/** The museum verdicts (banner.museum): which deliberately broken variants the families caught. */
function museumLines(b: typeof banner): HTMLElement[] {
  const entries = Array.isArray(b.museum) ? b.museum : [];
  if (entries.length === 0) return [];
  return [
    h(
      'details',
      { class: 'museum', open: true },
      h(
        'summary',
        {},
        `Bug museum: ${entries.filter((e) => e.verdict === 'caught').length} of ${entries.length} caught`,
      ),
      h(
        'ul',
        {},
        ...entries.map((e) =>
          h(
            'li',
            { 'data-museum': e.impl },
            `${e.verdict === 'caught' ? '✓ caught' : e.verdict === 'missed' ? '✗ MISSED' : '– not judged'}: ${e.impl} (family ${e.family}) — ${e.summary}`,
          ),
        ),
      ),
    ),
  ];
}

// ---------------------------------------------------------------------------------------------
// Conformance matrix
// ---------------------------------------------------------------------------------------------

function statusBadge(c: Case): HTMLElement {
  const l = STATUS_LABEL[c.status];
  return h(
    'span',
    { class: `badge s-${c.status}` },
    h('span', { class: 'icon', 'aria-hidden': 'true' }, l.icon),
    ` ${l.text}`,
  );
}

/** A museum variant failing under the expected-outcome rule: "caught", not a finding. */
function expectedFailure(c: Case): boolean {
  return c.expect === 'fail' && c.status === 'fail';
}

function cellTitle(c: Case): string {
  const parts = [c.requirement ?? c.title];
  if (c.expect === 'fail') parts.push('expected outcome: fail (a museum variant this property should catch)');
  if (c.status !== 'pass' && c.actual !== null) parts.push(`${c.status}: ${c.actual}`);
  return parts.join('\n');
}

function renderMatrix(): void {
  const host = byId('matrix');
  if (host === null) return;
  const q = parseQuery(view.query);
  const hint = byId('query-hint');
  if (hint !== null)
    hint.textContent = q.unknown.length > 0 ? `Not understood (ignored): ${q.unknown.join(' ')}` : '';

  const shownRows: { row: Row; group: string }[] = [];
  const columns = new Set<string>();
  let totalRows = 0;
  for (const g of matrix.groups) {
    for (const row of g.rows) {
      if (row.coverage && !view.coverage) continue;
      totalRows++;
      let any = false;
      for (const [impl, c] of row.cells) {
        if (matches(q, c, row.suite)) {
          any = true;
          columns.add(impl);
        }
      }
      if (any) shownRows.push({ row, group: g.label });
    }
  }
  const impls = matrix.impls.filter((i) => columns.has(i));
  const count = byId('row-count');
  if (count !== null)
    count.textContent = `${shownRows.length} of ${totalRows} rows${shownRows.length > MAX_ROWS ? ` (first ${MAX_ROWS} shown: narrow the query)` : ''}`;

  const totals = new Map(impls.map((i) => [i, emptyTotals()]));
  const body = h('tbody');
  let lastGroup = '';
  let r = 0;
  for (const { row, group } of shownRows.slice(0, MAX_ROWS)) {
    if (group !== lastGroup) {
      body.append(
        h('tr', { class: 'group' }, h('th', { colspan: impls.length + 2, scope: 'rowgroup' }, group)),
      );
      lastGroup = group;
    }
    const tr = h(
      'tr',
      { 'data-row': row.key },
      h(
        'th',
        { scope: 'row', class: 'check' },
        h('span', { class: 'title' }, row.title),
        h('span', { class: 'key' }, row.key),
      ),
      h('td', { class: 'ref' }, row.ref ?? ''),
    );
    impls.forEach((impl, col) => {
      const c = row.cells.get(impl);
      if (c === undefined) {
        tr.append(h('td', { class: 'cell none' }, h('span', { class: 'sr-only' }, 'not run')));
        return;
      }
      const hit = matches(q, c, row.suite);
      if (hit) {
        const t = totals.get(impl)!;
        t.cases++;
        t[c.status]++;
      }
      const l = STATUS_LABEL[c.status];
      tr.append(
        h(
          'td',
          { class: `cell${hit ? '' : ' dim'}` },
          h(
            'button',
            {
              type: 'button',
              class: `cellbtn s-${c.status}`,
              title: cellTitle(c),
              'data-case': c.id,
              'data-r': r,
              'data-c': col,
              'aria-label': `${l.text}${expectedFailure(c) ? ' (expected)' : ''}: ${row.title}, ${impl}`,
            },
            h('span', { class: 'icon', 'aria-hidden': 'true' }, l.icon),
            ` ${l.text}${expectedFailure(c) ? ' (expected)' : ''}`,
          ),
        ),
      );
    });
    body.append(tr);
    r++;
  }
  const table = h(
    'table',
    { class: 'matrix' },
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        h('th', { scope: 'col', class: 'check' }, 'Check'),
        h('th', { scope: 'col', class: 'ref' }, 'Ref'),
        ...impls.map((i) => h('th', { scope: 'col', class: 'impl' }, i)),
      ),
    ),
    body,
    h(
      'tfoot',
      {},
      h(
        'tr',
        {},
        h('th', { scope: 'row', class: 'check' }, 'Totals (shown)'),
        h('td', { class: 'ref' }),
        ...impls.map((i) => {
          const t = totals.get(i)!;
          return h(
            'td',
            { class: 'coltotal', 'data-impl': i },
            ...STATUSES.filter((s) => t[s] > 0).map((s) =>
              h(
                'span',
                { class: `tot s-${s}` },
                h('span', { 'aria-hidden': 'true' }, STATUS_LABEL[s].icon),
                ` ${t[s]} ${STATUS_LABEL[s].text}`,
              ),
            ),
          );
        }),
      ),
    ),
  );
  host.replaceChildren(
    shownRows.length === 0 ? h('p', { class: 'empty' }, 'No case matches the query.') : table,
  );
}

/** Arrow keys move between cells of the matrix (Tab moves through them in reading order too). */
function onMatrixKey(e: KeyboardEvent): void {
  const target = e.target;
  if (!(target instanceof HTMLButtonElement) || target.dataset.r === undefined) return;
  const moves: Record<string, [number, number]> = {
    ArrowUp: [-1, 0],
    ArrowDown: [1, 0],
    ArrowLeft: [0, -1],
    ArrowRight: [0, 1],
  };
  const move = moves[e.key];
  if (move === undefined) return;
  let r = Number(target.dataset.r);
  let c = Number(target.dataset.c);
  for (let step = 0; step < 50; step++) {
    r += move[0];
    c += move[1];
    const next = document.querySelector<HTMLButtonElement>(`button[data-r="${r}"][data-c="${c}"]`);
    if (next !== null) {
      next.focus();
      e.preventDefault();
      return;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Case page
// ---------------------------------------------------------------------------------------------

async function copyText(text: string): Promise<boolean> {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    // No clipboard API (an old browser, or a file:// page without permission): the textarea way.
    const area = h('textarea', { class: 'sr-only', readonly: true });
    area.value = text;
    document.body.append(area);
    area.select();
    let ok: boolean;
    try {
      ok = document.execCommand('copy');
    } catch {
      ok = false;
    }
    area.remove();
    return ok;
  }
}

function metaTable(c: Case, suite: string): HTMLElement {
  const rows: [string, unknown][] = [
    ['id', c.id],
    ['suite', suite],
    ['family', c.family],
    ['protocol', c.protocol],
    ['transport', c.transport],
    ['runtime', c.runtime],
    ['impl', c.impl],
    ['peer', c.peer],
    ['role', c.role],
    ['checklist ref', c.ref],
    ['faults', Array.isArray(c.faults) && c.faults.length > 0 ? c.faults.join(', ') : 'none'],
    ['runs', c.runs],
    ['fcSeed', c.fcSeed],
    ['fcPath', c.fcPath],
    ['simSeed', c.simSeed],
    ['traceHash', c.traceHash],
    ['wall time', typeof c.wallMs === 'number' ? `${c.wallMs.toFixed(1)} ms` : null],
  ];
  return h(
    'dl',
    { class: 'fields meta' },
    ...rows
      .filter(([, v]) => v !== null && v !== undefined)
      .flatMap(([k, v]) => [h('dt', {}, k), h('dd', {}, show(v))]),
  );
}

function coverageList(c: Case): HTMLElement {
  const property = propertyOf(c);
  const related = [...caseById.values()]
    .map((x) => x.c)
    .filter((x) => x.id !== c.id && x.impl === c.impl && isCoverageCase(x) && propertyOf(x) === property);
  if (related.length === 0)
    return h('p', { class: 'muted' }, 'No coverage cases recorded for this property.');
  return h(
    'ul',
    { class: 'coverage' },
    ...related.map((x) =>
      h(
        'li',
        {},
        statusBadge(x),
        ' ',
        h('a', { href: formatHash({ ...view, caseId: x.id }) }, x.invariant ?? x.id),
        x.requirement !== null ? h('span', { class: 'muted' }, ` — ${x.requirement}`) : null,
        x.status !== 'pass' && x.actual !== null ? h('span', { class: 'muted' }, ` (${x.actual})`) : null,
      ),
    ),
  );
}

function traceSection(c: Case): HTMLElement {
  const box = h('div', { class: 'trace', 'aria-live': 'polite' });
  if (c.trace === null) {
    box.append(h('p', { class: 'muted' }, 'No trace was kept for this case.'));
    return box;
  }
  const path = c.trace;
  box.append(
    h(
      'p',
      {},
      h(
        'a',
        {
          href: formatHash({ ...view, caseId: c.id, viewer: true, tUs: null, msg: null, filter: '' }),
          class: 'viewer-link',
        },
        'Open this trace in the scenario viewer',
      ),
      h(
        'span',
        { class: 'muted' },
        ' (the time-scaled sequence diagram of the run, opened at the failure, with an in-page re-run)',
      ),
    ),
    h('p', { class: 'trace-status' }, `Decoding ${path}…`),
  );
  loadTrace(path).then(
    (text) => {
      const s = summarizeTrace(text);
      const span = s.firstUs !== null && s.lastUs !== null ? formatUs(s.lastUs - s.firstUs) : 'n/a';
      const header = s.header ?? {};
      box
        .querySelector('.trace-status')
        ?.replaceWith(
          h(
            'div',
            { class: 'trace-summary' },
            h(
              'p',
              {},
              h('strong', { 'data-field': 'events' }, `${s.events} events`),
              ` over ${span} of virtual time; hosts: ${s.hosts.join(', ') || 'none'}`,
            ),
            h(
              'p',
              { class: 'muted' },
              `${path} · schema ${show(header.schema)} · seed ${show(header.seed)} · source ${show(header.source)}`,
            ),
            s.badLines > 0
              ? h(
                  'p',
                  { class: 'problem' },
                  `${s.badLines} line(s) of the trace are not JSON (truncated or corrupt).`,
                )
              : null,
            s.schemaProblem !== null
              ? h(
                  'p',
                  { class: 'problem', 'data-field': 'trace-schema' },
                  `The viewer cannot open it: ${s.schemaProblem}.`,
                )
              : null,
            h('ul', { class: 'kinds' }, ...s.kinds.map(([k, n]) => h('li', {}, h('code', {}, k), ` ${n}`))),
          ),
        );
    },
    (e: unknown) => {
      box
        .querySelector('.trace-status')
        ?.replaceWith(h('p', { class: 'problem', role: 'alert' }, message(e)));
    },
  );
  return box;
}

function renderCase(): void {
  const panel = byId('case-page');
  if (panel === null) return;
  viewerHandle?.destroy();
  viewerHandle = null;
  const viewerBox = byId('viewer');
  if (viewerBox !== null && !(view.caseId !== null && view.viewer)) {
    viewerBox.hidden = true;
    viewerBox.replaceChildren();
  }
  if (view.caseId !== null && view.viewer && viewerBox !== null) {
    panel.hidden = true;
    renderViewer(viewerBox, view.caseId);
    return;
  }
  if (view.caseId === null) {
    const wasOpen = !panel.hidden;
    panel.hidden = true;
    panel.replaceChildren();
    if (wasOpen && returnFocusTo !== null) {
      document.querySelector<HTMLButtonElement>(`button[data-case="${CSS.escape(returnFocusTo)}"]`)?.focus();
    }
    return;
  }
  const found = caseById.get(view.caseId);
  panel.hidden = false;
  const close = h(
    'button',
    { type: 'button', class: 'close', 'aria-label': 'Close the case page (Escape)' },
    '× Close',
  );
  close.addEventListener('click', closeCase);
  if (found === undefined) {
    panel.replaceChildren(
      close,
      h('h2', { id: 'case-title', tabindex: -1 }, 'Unknown case'),
      h('p', { class: 'problem' }, `No case with id ${view.caseId} in this report.`),
    );
    byId('case-title')?.focus();
    return;
  }
  const { c, suite } = found;
  const copied = h('span', { class: 'copied', 'aria-live': 'polite' });
  const copy = h('button', { type: 'button', class: 'copy' }, 'Copy replay command');
  copy.addEventListener('click', () => {
    void copyText(c.replay).then((ok) => {
      copied.textContent = ok ? 'copied' : 'copy failed: select the command and press Ctrl+C';
    });
  });
  const isFail = c.status === 'fail' || c.status === 'error' || c.status === 'flaky';
  const counterexample =
    c.counterexample === null || c.counterexample === undefined
      ? h('p', { class: 'muted' }, 'No counterexample (nothing failed, or the case is not a property).')
      : h(
          'details',
          { class: 'counterexample', open: true },
          h('summary', {}, 'Counterexample (shrunk scenario, JSON)'),
          h('pre', {}, JSON.stringify(c.counterexample, null, 2)),
        );
  panel.replaceChildren(
    close,
    h('p', { class: 'crumb' }, `${suite} · ${c.protocol} · ${columnOf(c)}`),
    h('h2', { id: 'case-title', tabindex: -1 }, c.title),
    h('p', {}, statusBadge(c), ' ', h('code', {}, c.id)),
    h('h3', {}, 'Requirement'),
    c.requirement !== null
      ? h('blockquote', { class: 'requirement' }, c.requirement)
      : h('p', { class: 'muted' }, 'No requirement text recorded.'),
    h('h3', {}, isFail ? 'Failing invariant' : 'Invariant'),
    h('p', {}, c.invariant !== null ? h('code', { class: 'invariant' }, c.invariant) : 'none recorded'),
    h(
      'div',
      { class: 'expected-actual' },
      h('section', { class: 'expected' }, h('h3', {}, 'Expected'), h('p', {}, c.expected ?? '—')),
      h(
        'section',
        { class: `actual${isFail ? ' bad' : ''}` },
        h('h3', {}, 'Actual'),
        h('p', {}, c.actual ?? '—'),
      ),
    ),
    h('h3', {}, 'Counterexample'),
    h(
      'p',
      { class: 'shrinks' },
      c.shrinks === null ? 'Shrink steps: none (nothing was shrunk)' : `Shrink steps: ${c.shrinks}`,
    ),
    counterexample,
    h('h3', {}, 'Replay'),
    h('p', { class: 'replay' }, h('code', { class: 'replay-cmd' }, c.replay), ' ', copy, ' ', copied),
    h('h3', {}, 'Fault coverage of this property'),
    coverageList(c),
    h('h3', {}, 'Trace'),
    traceSection(c),
    h('h3', {}, 'Details'),
    metaTable(c, suite),
  );
  byId('case-title')?.focus();
}

// ---------------------------------------------------------------------------------------------
// Scenario viewer (web/viewer.ts)
// ---------------------------------------------------------------------------------------------

let runnerLoad: Promise<NetlabRunner> | null = null;

/** The re-run bundle, inflated and run on first use (inline script: the page's CSP allows it). */
function loadRunner(): Promise<NetlabRunner> {
  runnerLoad ??= (async () => {
    if (window.netlabRunner !== undefined) return window.netlabRunner;
    const id = manifest.runner;
    const text = id === null || id === undefined ? null : byId(id)?.textContent;
    if (text === null || text === undefined)
      throw new Error('this page was built without the re-run bundle (dist/web/runner.js was missing)');
    const code = await inflate(text.trim());
    document.body.append(h('script', {}, code));
    if (window.netlabRunner === undefined) throw new Error('the re-run bundle did not start');
    return window.netlabRunner;
  })();
  runnerLoad.catch(() => {
    runnerLoad = null;
  });
  return runnerLoad;
}

function renderViewer(box: HTMLElement, caseId: string): void {
  box.hidden = false;
  const found = caseById.get(caseId);
  const back = (): void => setView({ ...view, viewer: false, tUs: null, msg: null, filter: '' });
  if (found === undefined || found.c.trace === null) {
    const close = h('button', { type: 'button', class: 'close' }, '← Back');
    close.addEventListener('click', back);
    box.replaceChildren(
      close,
      h('h2', { id: 'viewer-title', tabindex: -1 }, 'Scenario viewer'),
      h(
        'p',
        { class: 'problem', role: 'alert' },
        found === undefined
          ? `No case with id ${caseId} in this report.`
          : 'No trace was kept for this case.',
      ),
    );
    byId('viewer-title')?.focus();
    return;
  }
  const c = found.c;
  const tracePath = c.trace!;
  const cx: unknown = c.counterexample;
  const cxo =
    typeof cx === 'object' && cx !== null && !Array.isArray(cx) ? (cx as Record<string, unknown>) : null;
  const isFail = c.status === 'fail' || c.status === 'error' || c.status === 'flaky';
  viewerHandle = openViewer(box, {
    caseId,
    title: c.title,
    failure: isFail ? { invariant: c.invariant, expected: c.expected, actual: c.actual } : null,
    tracePath,
    loadTrace: () => loadTrace(tracePath),
    counterexample:
      cxo !== null && typeof cxo.simSeed === 'string' && cxo.scenario !== undefined
        ? {
            scenario: cxo.scenario,
            simSeed: cxo.simSeed,
            traceHash: typeof cxo.traceHash === 'string' ? cxo.traceHash : c.traceHash,
          }
        : null,
    loadRunner,
    decoders,
    tUs: view.tUs,
    msg: view.msg,
    filter: view.filter,
    onMoment: (tUs, msg) => setView({ ...view, tUs, msg }),
    onFilter: (filter) => setView({ ...view, filter }),
    onClose: back,
  });
}

function openCase(id: string): void {
  returnFocusTo = id;
  setView({ ...view, caseId: id });
}

function closeCase(): void {
  setView({ ...view, caseId: null });
}

// ---------------------------------------------------------------------------------------------
// View state <-> URL hash
// ---------------------------------------------------------------------------------------------

function setView(next: ViewState): void {
  const matrixChanged = next.query !== view.query || next.coverage !== view.coverage;
  const caseChanged = next.caseId !== view.caseId || next.viewer !== view.viewer;
  view = next;
  const hash = formatHash(view);
  // replaceState: typing in the bar must not fill the history with one entry per key.
  history.replaceState(null, '', hash === '' ? location.pathname + location.search : hash);
  if (matrixChanged) stage('matrix', renderMatrix);
  if (caseChanged) stage('case page', renderCase);
  renderProblems();
}

function onHashChange(): void {
  const next = parseHash(location.hash);
  const input = byId('q') as HTMLInputElement | null;
  if (input !== null && input.value !== next.query) input.value = next.query;
  const cov = byId('cov') as HTMLInputElement | null;
  if (cov !== null) cov.checked = next.coverage;
  setView(next);
}

// ---------------------------------------------------------------------------------------------
// Page skeleton
// ---------------------------------------------------------------------------------------------

function skeleton(): void {
  const input = h('input', {
    id: 'q',
    type: 'search',
    autocomplete: 'off',
    spellcheck: 'false',
    placeholder: 's:fail family:framing proto:req0 !impl:museum/*',
    'aria-describedby': 'query-help',
  });
  input.value = view.query;
  input.addEventListener('input', () => setView({ ...view, query: input.value }));
  const cov = h('input', { id: 'cov', type: 'checkbox' });
  cov.checked = view.coverage;
  cov.addEventListener('change', () => setView({ ...view, coverage: cov.checked }));
  const matrixHost = h('div', { id: 'matrix', class: 'matrix-wrap' });
  matrixHost.addEventListener('click', (e) => {
    const btn = (e.target as Element).closest('button[data-case]');
    if (btn instanceof HTMLButtonElement && btn.dataset.case !== undefined) openCase(btn.dataset.case);
  });
  matrixHost.addEventListener('keydown', onMatrixKey);
  byId('app')?.replaceChildren(
    h('div', { id: 'problems', class: 'problems', role: 'alert', hidden: true }),
    h('header', { id: 'banner', class: 'banner' }),
    h(
      'section',
      { class: 'query', 'aria-label': 'Filter the matrix' },
      h('label', { for: 'q' }, 'Query'),
      input,
      h('label', { class: 'cov' }, cov, ' show coverage rows'),
      h('span', { id: 'row-count', class: 'muted' }),
      h(
        'p',
        { id: 'query-help', class: 'muted help' },
        'Terms key:value, * as wildcard, ! to negate; keys s (status), family, suite, proto, impl, id, ref, transport, runtime, fault, peer; bare words match title and id. ' +
          'Same key: any of them; different keys: all of them. The view is kept in the URL, so a link opens it.',
      ),
      h('p', { id: 'query-hint', class: 'problem', 'aria-live': 'polite' }),
    ),
    matrixHost,
    h(
      'p',
      { class: 'legend muted' },
      'Legend: ',
      ...STATUSES.map((s) =>
        h('span', { class: `badge s-${s}` }, `${STATUS_LABEL[s].icon} ${STATUS_LABEL[s].text}`),
      ),
      ' — hover a cell for its requirement; click it (or Enter) for the case page; arrow keys move between cells; Escape closes the case page.',
    ),
    h('section', {
      id: 'viewer',
      class: 'viewer',
      role: 'dialog',
      'aria-labelledby': 'viewer-title',
      hidden: true,
    }),
    h('aside', {
      id: 'case-page',
      class: 'case-page',
      role: 'dialog',
      'aria-labelledby': 'case-title',
      hidden: true,
    }),
  );
}

function main(): void {
  view = parseHash(location.hash);
  loadData();
  stage('layout', skeleton);
  stage('run banner', renderBanner);
  stage('matrix model', () => {
    matrix = buildMatrix(suites);
  });
  stage('matrix', renderMatrix);
  stage('case page', renderCase);
  renderProblems();
  window.addEventListener('hashchange', onHashChange);
  document.addEventListener('keydown', (e) => {
    if (e.key === 'Escape' && view.caseId !== null) {
      e.preventDefault();
      if (view.viewer) setView({ ...view, viewer: false, tUs: null, msg: null, filter: '' });
      else closeCase();
    }
  });
}

/** Renders the page from the data embedded in it. */
export function startReportPage(options: ReportPageOptions): void {
  decoders = options.decoders;
  try {
    main();
  } catch (e) {
    // Last resort: never a blank page.
    const app = byId('app') ?? document.body;
    app.append(h('p', { class: 'problem', role: 'alert' }, `The report could not render: ${message(e)}`));
  }
}
