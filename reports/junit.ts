/**
 * JUnit XML for CI systems (GitHub, GitLab, Jenkins): one <testsuite> per suite and one <testcase>
 * per case of a report, in the de-facto schema those tools read (Ant's, plus <skipped/>). A failed
 * case's body carries what a CI reader needs to act without opening the report: the invariant,
 * expected vs actual, the counterexample and the replay command.
 *
 * Isomorphic: no Node imports (the browser report can offer the same XML for download).
 */
import type { Case, MuseumEntry, Report, Suite } from './schema.js';

/** Longest `message` attribute: CI UIs show it as a one-line title; the element body has everything. */
const MESSAGE_CHARS_MAX = 500;
/** Longest counterexample rendered in a body: a bound on the XML size; report.json keeps the whole value. */
const COUNTEREXAMPLE_CHARS_MAX = 16_384;

// ---------------------------------------------------------------------------------------------
// Escaping
// ---------------------------------------------------------------------------------------------

/**
 * Characters XML 1.0 forbids even as character references (C0 controls other than tab, LF and CR;
 * U+FFFE, U+FFFF; unpaired surrogates). A strict parser rejects the whole file on one of them.
 */
const NOT_XML_CHAR =
  // eslint-disable-next-line no-control-regex -- matching control characters is the point of this pattern
  /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** Replaces characters XML cannot carry with a visible "\uXXXX", so the reader still sees that one was there. */
function toXmlChars(text: string): string {
  return text.replace(
    NOT_XML_CHAR,
    (ch) => `\\u${ch.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}`,
  );
}

/**
 * Escapes text for element content. ">" is escaped too (required only in "]]>"), and CR becomes
 * &#13; because parsers turn a literal CR or CRLF into LF.
 */
export function escapeXmlText(text: string): string {
  return toXmlChars(text).replace(/[&<>\r]/g, (ch) => TEXT_ENTITIES[ch] ?? ch);
}

/**
 * Escapes text for a double- or single-quoted attribute value. Tab, LF and CR become character
 * references because attribute-value normalization would otherwise turn each into a space.
 */
export function escapeXmlAttribute(text: string): string {
  return toXmlChars(text).replace(/[&<>"'\t\n\r]/g, (ch) => ATTRIBUTE_ENTITIES[ch] ?? ch);
}

const TEXT_ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '\r': '&#13;' };
const ATTRIBUTE_ENTITIES: Record<string, string> = {
  ...TEXT_ENTITIES,
  '"': '&quot;',
  "'": '&apos;',
  '\t': '&#9;',
  '\n': '&#10;',
};

function attrs(pairs: Record<string, string | number | null>): string {
  return Object.entries(pairs)
    .filter((p): p is [string, string | number] => p[1] !== null)
    .map(([k, v]) => ` ${k}="${escapeXmlAttribute(String(v))}"`)
    .join('');
}

function clip(text: string, charsMax: number, note: string): string {
  return text.length <= charsMax ? text : `${text.slice(0, charsMax)}… ${note}`;
}

// ---------------------------------------------------------------------------------------------
// Content
// ---------------------------------------------------------------------------------------------

/** Milliseconds as JUnit's seconds with millisecond precision. */
function seconds(ms: number): string {
  return (ms / 1000).toFixed(3);
}

/** The one-line summary of a failure or error. */
function summary(c: Case): string {
  const parts: string[] = [];
  if (c.expected !== null) parts.push(`expected ${c.expected}`);
  if (c.actual !== null) parts.push(`actual ${c.actual}`);
  const head = c.invariant ?? (c.status === 'error' ? 'error' : 'failed');
  const line = parts.length > 0 ? `${head}: ${parts.join('; ')}` : head;
  return clip(line, MESSAGE_CHARS_MAX, '(see the element body)');
}

/** Everything needed to understand and reproduce a case, one "label: value" line each. */
function details(c: Case): string {
  const lines: string[] = [];
  const add = (label: string, value: string | null): void => {
    if (value !== null) lines.push(`${label}: ${value}`);
  };
  add('invariant', c.invariant);
  add('requirement', c.requirement);
  add('ref', c.ref);
  add('expected', c.expected);
  add('actual', c.actual);
  if (c.counterexample !== null) {
    const json = JSON.stringify(c.counterexample, null, 2);
    add('counterexample', clip(json, COUNTEREXAMPLE_CHARS_MAX, '(truncated; report.json has all of it)'));
  }
  const fc: string[] = [];
  if (c.fcSeed !== null) fc.push(`seed ${c.fcSeed}`);
  if (c.fcPath !== null) fc.push(`path ${JSON.stringify(c.fcPath)}`);
  if (c.shrinks !== null) fc.push(`${c.shrinks} shrinks`);
  if (fc.length > 0) fc.push(`${c.runs} runs`);
  add('fast-check', fc.length > 0 ? fc.join(', ') : null);
  add('sim seed', c.simSeed);
  add(
    'runtime',
    `${c.runtime} ${c.impl}${c.peer === null ? '' : ` with ${c.peer}`}${c.role === null ? '' : ` as ${c.role}`} over ${c.transport}`,
  );
  add('faults', c.faults.length > 0 ? c.faults.join(', ') : null);
  add('trace', c.trace === null ? null : `${c.trace}${c.traceHash === null ? '' : ` (hash ${c.traceHash})`}`);
  if (c.trace === null) add('trace hash', c.traceHash);
  add('replay', c.replay);
  return lines.join('\n');
}

function testcase(suite: Suite, c: Case): string {
  const open = `<testcase${attrs({
    classname: suite.name,
    name: `${c.title} [${c.id}]`,
    time: c.wallMs === null ? null : seconds(c.wallMs),
  })}`;
  switch (c.status) {
    case 'pass':
      return `    ${open}/>`;
    case 'fail':
      if (c.expect === 'fail') {
        // A museum variant failing as intended: the lab worked, so CI must not count it as a failure.
        const note = `expected failure: ${c.impl} is a museum variant (a deliberately broken implementation) and failed as intended; counted as a pass\n${details(c)}`;
        return [
          `    ${open}>`,
          `      <system-out>${escapeXmlText(note)}</system-out>`,
          '    </testcase>',
        ].join('\n');
      }
      return [
        `    ${open}>`,
        `      <failure${attrs({ message: summary(c), type: 'invariant' })}>${escapeXmlText(details(c))}</failure>`,
        '    </testcase>',
      ].join('\n');
    case 'error':
      return [
        `    ${open}>`,
        `      <error${attrs({ message: summary(c), type: 'error' })}>${escapeXmlText(details(c))}</error>`,
        '    </testcase>',
      ].join('\n');
    case 'skip':
      return [`    ${open}>`, `      <skipped${attrs({ message: c.actual })}/>`, '    </testcase>'].join(
        '\n',
      );
    case 'flaky': {
      // CI tools have no flaky state: count it as a pass (a retry succeeded) and say so in the output.
      const note = `flaky: the outcome differed between the ${c.runs} runs of this case; counted as a pass\n${details(c)}`;
      return [
        `    ${open}>`,
        `      <system-out>${escapeXmlText(note)}</system-out>`,
        '    </testcase>',
      ].join('\n');
    }
  }
}

/** One <testcase> per museum variant: caught passes, missed fails, not-judged is skipped. */
function museumCase(e: MuseumEntry): string {
  const failed = e.properties.filter((p) => p.failed).length;
  const open = `<testcase${attrs({ classname: MUSEUM_SUITE, name: `${e.impl} caught by ${e.family ?? '(no family)'}` })}`;
  const about = `${e.impl}: ${e.summary}\nfamily: ${e.family ?? 'none'}\nproperties of the family run: ${e.properties.length} of ${e.propertiesTotal}; failed: ${failed}`;
  switch (e.verdict) {
    case 'caught':
      return `    ${open}/>`;
    case 'missed':
      return [
        `    ${open}>`,
        `      <failure${attrs({ message: `${e.impl} was not caught: every ${e.family ?? ''} property passed`, type: 'missed' })}>${escapeXmlText(about)}</failure>`,
        '    </testcase>',
      ].join('\n');
    case 'not-judged':
      return [
        `    ${open}>`,
        `      <skipped${attrs({ message: `not judged here: ${e.properties.length} of ${e.propertiesTotal} properties of its family ran (other shards, budget, or family not selected)` })}/>`,
        '    </testcase>',
      ].join('\n');
  }
}

/** Name of the extra <testsuite> that holds the museum verdicts. */
export const MUSEUM_SUITE = 'museum';

function properties(report: Report): string[] {
  const b = report.banner;
  const props: [string, string | number | boolean][] = [
    ['netlab.version', b.netlabVersion],
    ['netlab.commit', b.commit],
    ['node.version', b.nodeVersion],
    ['sim.seed', b.simSeed],
    ['fc.seed', b.fcSeed],
    ['virtualUs', b.virtualUs],
    ...(b.scenarioRuns === null ? [] : ([['scenarioRuns', b.scenarioRuns]] as [string, number][])),
    ...(b.scenarioRunsPerSec === null
      ? []
      : ([['scenarioRunsPerSec', b.scenarioRunsPerSec]] as [string, number][])),
    ...Object.entries(b.knobs).map(([k, v]): [string, string | number | boolean] => [`knob.${k}`, v]),
  ];
  return [
    '    <properties>',
    ...props.map(([name, value]) => `      <property${attrs({ name, value: String(value) })}/>`),
    '    </properties>',
  ];
}

function counts(cases: readonly Case[]): {
  tests: number;
  failures: number;
  errors: number;
  skipped: number;
} {
  return {
    tests: cases.length,
    failures: cases.filter((c) => c.status === 'fail' && c.expect !== 'fail').length,
    errors: cases.filter((c) => c.status === 'error').length,
    skipped: cases.filter((c) => c.status === 'skip').length,
  };
}

/**
 * Renders a report as JUnit XML: <testsuites> with totals and the run's wall time, one <testsuite>
 * per suite (counts, summed case time when any case was timed, the run's start as timestamp, the
 * banner as <properties>), one <testcase> per case with classname = suite name and name =
 * "title [id]". fail -> <failure type="invariant">, error -> <error>, skip -> <skipped/> (with the
 * reason from `actual`), flaky -> a pass with a <system-out> note, a fail that was expected (a
 * museum variant caught) -> a pass with a <system-out> note. Museum verdicts get their own last
 * <testsuite name="museum">: caught passes, missed fails, not-judged is skipped. The report is trusted to be
 * valid (parseReport / createReport); text that XML cannot carry is escaped or made visible.
 */
export function toJunitXml(report: Report): string {
  const all = report.suites.flatMap((s) => s.cases);
  const museum = report.banner.museum;
  const museumCounts = {
    tests: museum.length,
    failures: museum.filter((e) => e.verdict === 'missed').length,
    errors: 0,
    skipped: museum.filter((e) => e.verdict === 'not-judged').length,
  };
  const cases = counts(all);
  const total = {
    tests: cases.tests + museumCounts.tests,
    failures: cases.failures + museumCounts.failures,
    errors: cases.errors,
    skipped: cases.skipped + museumCounts.skipped,
  };
  const out: string[] = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites${attrs({ name: 'netlab', ...total, time: seconds(report.banner.wallMs) })}>`,
  ];
  for (const suite of report.suites) {
    const timed = suite.cases.filter((c) => c.wallMs !== null);
    const suiteMs = timed.reduce((sum, c) => sum + (c.wallMs ?? 0), 0);
    out.push(
      `  <testsuite${attrs({
        name: suite.name,
        ...counts(suite.cases),
        time: timed.length > 0 ? seconds(suiteMs) : null,
        timestamp: report.banner.startedAt,
      })}>`,
      ...properties(report),
      ...suite.cases.map((c) => testcase(suite, c)),
      '  </testsuite>',
    );
  }
  if (museum.length > 0)
    out.push(
      `  <testsuite${attrs({ name: MUSEUM_SUITE, ...museumCounts, timestamp: report.banner.startedAt })}>`,
      ...properties(report),
      ...museum.map(museumCase),
      '  </testsuite>',
    );
  out.push('</testsuites>');
  return out.join('\n') + '\n';
}
