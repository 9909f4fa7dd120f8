import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { escapeXmlAttribute, escapeXmlText, toJunitXml } from './junit.js';
import { createReport, type Case, type Report } from './schema.js';
import { sampleBanner, sampleCase, sampleReport } from './testing/fixtures.js';
import { childElements, parseXml, textOf, type XmlElement } from './testing/xml.js';

function only(el: XmlElement, name: string): XmlElement {
  const found = childElements(el, name);
  expect(found, `<${el.name}> should hold one <${name}>`).toHaveLength(1);
  return found[0]!;
}

function testcases(xml: string): XmlElement[] {
  return childElements(parseXml(xml), 'testsuite').flatMap((s) => childElements(s, 'testcase'));
}

function oneCaseReport(c: Partial<Case>): Report {
  return createReport(sampleBanner(), [{ name: 'suite', cases: [sampleCase(c)] }]);
}

/** What toJunitXml promises for text XML cannot carry: a visible \uXXXX in its place. */
function visible(text: string): string {
  return text.replace(
    // eslint-disable-next-line no-control-regex -- the characters XML 1.0 forbids, as in junit.ts
    /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g,
    (ch) => `\\u${ch.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}`,
  );
}

describe('toJunitXml structure', () => {
  const report = sampleReport();
  const xml = toJunitXml(report);
  const root = parseXml(xml);

  it('is a well-formed document with an XML declaration', () => {
    expect(xml.startsWith('<?xml version="1.0" encoding="UTF-8"?>\n')).toBe(true);
    expect(xml.endsWith('</testsuites>\n')).toBe(true);
    expect(root.name).toBe('testsuites');
  });

  it('counts cases on <testsuites> and on each <testsuite>; flaky counts as a pass', () => {
    expect(root.attributes).toMatchObject({
      name: 'netlab',
      tests: '5',
      failures: '1',
      errors: '1',
      skipped: '1',
      time: '1.830',
    });
    const suites = childElements(root, 'testsuite');
    expect(suites.map((s) => s.attributes.name)).toEqual(['sp/req0', 'interop/nngcat']);
    expect(suites[0]!.attributes).toMatchObject({ tests: '3', failures: '1', errors: '0', skipped: '0' });
    expect(suites[1]!.attributes).toMatchObject({ tests: '2', failures: '0', errors: '1', skipped: '1' });
    expect(suites[0]!.attributes.timestamp).toBe(report.banner.startedAt);
    // Summed from the timed cases: 3 x 12.5 ms; the skipped case of suite 2 has no time.
    expect(suites[0]!.attributes.time).toBe((37.5 / 1000).toFixed(3));
    expect(suites[1]!.attributes.time).toBe((12.5 / 1000).toFixed(3));
  });

  it('has one <testcase> per case, classname = suite, name = "title [id]", time in seconds', () => {
    const cases = testcases(xml);
    const all = report.suites.flatMap((s) => s.cases.map((c) => ({ suite: s.name, c })));
    expect(cases).toHaveLength(all.length);
    cases.forEach((tc, i) => {
      const { suite, c } = all[i]!;
      expect(tc.attributes.classname).toBe(suite);
      expect(tc.attributes.name).toBe(`${c.title} [${c.id}]`);
      if (c.wallMs === null) expect(tc.attributes).not.toHaveProperty('time');
      else expect(tc.attributes.time).toBe((c.wallMs / 1000).toFixed(3));
    });
  });

  it('puts the banner in <properties>', () => {
    const suite = childElements(root, 'testsuite')[0]!;
    const props = Object.fromEntries(
      childElements(only(suite, 'properties'), 'property').map((p): [string, string | undefined] => [
        p.attributes.name ?? '',
        p.attributes.value,
      ]),
    );
    expect(props).toMatchObject({
      'netlab.version': '0.1.0',
      'netlab.commit': report.banner.commit,
      'node.version': 'v20.20.2',
      'sim.seed': 'netlab',
      'fc.seed': '1234567',
      virtualUs: '42000000',
      'knob.lossRate': '0.01',
      'knob.swarm': 'false',
      'knob.mode': 'fast',
    });
  });

  it('maps each status to its element', () => {
    const [pass, fail, flaky, error, skip] = testcases(xml);
    expect(pass!.children).toEqual([]);

    const failure = only(fail!, 'failure');
    expect(failure.attributes.type).toBe('invariant');
    expect(failure.attributes.message).toBe(
      'one-reply-per-request: expected exactly one reply to request 0x80000001; actual two replies to request 0x80000001',
    );
    const body = textOf(failure);
    expect(body).toContain('expected: exactly one reply to request 0x80000001');
    expect(body).toContain('actual: two replies to request 0x80000001');
    expect(body).toContain('counterexample: [\n  {\n    "requests": 2,');
    expect(body).toContain('fast-check: seed 1234567, path "12:3:0", 7 shrinks, 100 runs');
    expect(body).toContain('trace: traces/sp_req0_reply-once.jsonl (hash 0123456789abcdef)');
    expect(body).toMatch(/\nreplay: netlab replay reports\/latest\/cases\/sp_req0_reply-once\.json$/);

    expect(childElements(flaky!, 'failure')).toEqual([]);
    const out = textOf(only(flaky!, 'system-out'));
    expect(out).toMatch(/^flaky: /);
    expect(out).toContain('counted as a pass');
    expect(out).toContain(`actual: failed in 1 of 3 runs\n`);
    expect(out).toContain(`replay: ${report.suites[0]!.cases[2]!.replay}`);

    const err = only(error!, 'error');
    expect(err.attributes.message).toBe('every-request-answered: actual ECONNREFUSED 127.0.0.1:5555');
    expect(textOf(err)).toContain('runtime: real netlab with nngcat as dialer over tcp');
    expect(textOf(err)).toContain('replay: netlab run --case interop/nngcat/pair0-tcp');

    expect(only(skip!, 'skipped').attributes.message).toBe('nanocat is not installed');
  });

  it('writes a bare <skipped/> when no reason is known, and bounds the failure message', () => {
    const skip = only(testcases(toJunitXml(oneCaseReport({ status: 'skip', actual: null })))[0]!, 'skipped');
    expect(skip.attributes).toEqual({});
    const long = 'x'.repeat(5000);
    const fail = only(testcases(toJunitXml(oneCaseReport({ status: 'fail', actual: long })))[0]!, 'failure');
    expect(fail.attributes.message!.length).toBeLessThan(600);
    expect(textOf(fail)).toContain(long);
  });
});

describe('museum outcomes in JUnit', () => {
  const variant = (id: string, impl: string, status: Case['status']): Case =>
    sampleCase({ id, impl, status, expect: 'fail', family: 'framing', invariant: 'delivery.intact' });
  const entry = (impl: string, properties: { id: string; failed: boolean }[], propertiesTotal: number) => ({
    impl,
    family: 'framing',
    summary: `${impl}: a planted bug`,
    propertiesTotal,
    properties,
  });
  const report = createReport(
    {
      ...sampleBanner(),
      scenarioRuns: 400,
      scenarioRunsPerSec: 218.5,
      museum: [
        entry('museum/caught', [{ id: 'framing/pair0', failed: true }], 1),
        entry('museum/missed', [{ id: 'framing/pair0', failed: false }], 1),
        entry('museum/elsewhere', [], 1),
      ],
    },
    [
      {
        name: 'framing',
        cases: [
          sampleCase({ id: 'netlab-1' }),
          variant('caught-1', 'museum/caught', 'fail'),
          variant('missed-1', 'museum/missed', 'pass'),
        ],
      },
    ],
  );
  const root = parseXml(toJunitXml(report));

  it('a caught variant is a pass with a note; a missed one is a failure; not-judged is skipped', () => {
    const [, caught] = testcases(toJunitXml(report));
    expect(childElements(caught!, 'failure')).toEqual([]);
    expect(textOf(only(caught!, 'system-out'))).toMatch(
      /^expected failure: museum\/caught is a museum variant/,
    );
    const museum = childElements(root, 'testsuite').find((s) => s.attributes.name === 'museum')!;
    expect(museum.attributes).toMatchObject({ tests: '3', failures: '1', errors: '0', skipped: '1' });
    const [c, m, n] = childElements(museum, 'testcase');
    expect(c!.attributes.name).toBe('museum/caught caught by framing');
    expect(c!.children).toEqual([]);
    expect(only(m!, 'failure').attributes.type).toBe('missed');
    expect(textOf(only(m!, 'failure'))).toContain('museum/missed: museum/missed: a planted bug');
    expect(only(n!, 'skipped').attributes.message).toMatch(/^not judged here: 0 of 1/);
  });

  it('counts only findings as failures on <testsuites>, and lists the scenario run figures', () => {
    expect(root.attributes).toMatchObject({ tests: '6', failures: '1', errors: '0', skipped: '1' });
    const props = childElements(only(childElements(root, 'testsuite')[0]!, 'properties'), 'property');
    const byName = Object.fromEntries(
      props.map((p): [string, string] => [p.attributes.name ?? '', p.attributes.value ?? '']),
    );
    expect(byName).toMatchObject({ scenarioRuns: '400', scenarioRunsPerSec: '218.5' });
  });
});

describe('XML escaping', () => {
  const nasty = `a "quoted" 'single' <tag> & &amp; ]]> tab\there\nnew line\r\nCRLF \u0000\u0001\u001b\u007f \uFFFE \uD800 \uDC00 😀 end`;

  it('escapes text and attributes for XML', () => {
    expect(escapeXmlText('<a & b>')).toBe('&lt;a &amp; b&gt;');
    expect(escapeXmlText('x]]>y')).toBe('x]]&gt;y');
    expect(escapeXmlText('line\r\n')).toBe('line&#13;\n');
    expect(escapeXmlAttribute(`"'<&>\t\n\r`)).toBe('&quot;&apos;&lt;&amp;&gt;&#9;&#10;&#13;');
    expect(escapeXmlText('\u0000\u0008\u000B\u000C\u001F')).toBe('\\u0000\\u0008\\u000B\\u000C\\u001F');
    expect(escapeXmlText('\uD83D\uDE00')).toBe('\uD83D\uDE00');
    expect(escapeXmlText('\uDE00\uD83D')).toBe('\\uDE00\\uD83D');
  });

  it('carries quotes, <, &, newlines and control characters through names, messages and bodies', () => {
    const report = createReport(sampleBanner(), [
      {
        name: `suite ${nasty}`,
        cases: [
          sampleCase({
            id: `id ${nasty}`,
            title: `title ${nasty}`,
            status: 'fail',
            invariant: `inv ${nasty}`,
            expected: `exp ${nasty}`,
            actual: `act ${nasty}`,
            counterexample: { text: nasty },
            replay: `netlab replay '${nasty}'`,
          }),
        ],
      },
    ]);
    report.banner.knobs[`knob ${nasty}`] = `value ${nasty}`;
    const xml = toJunitXml(report);
    const root = parseXml(xml);
    const suite = only(root, 'testsuite');
    expect(suite.attributes.name).toBe(visible(`suite ${nasty}`));
    const tc = only(suite, 'testcase');
    expect(tc.attributes.classname).toBe(visible(`suite ${nasty}`));
    expect(tc.attributes.name).toBe(visible(`title ${nasty} [id ${nasty}]`));
    const failure = only(tc, 'failure');
    expect(failure.attributes.message).toBe(
      visible(`inv ${nasty}: expected exp ${nasty}; actual act ${nasty}`),
    );
    const body = textOf(failure);
    expect(body).toContain(visible(`expected: exp ${nasty}`));
    expect(body).toContain(visible(`replay: netlab replay '${nasty}'`));
    const props = childElements(only(suite, 'properties'), 'property');
    expect(props.some((p) => p.attributes.name === visible(`knob.knob ${nasty}`))).toBe(true);
    expect(props.some((p) => p.attributes.value === visible(`value ${nasty}`))).toBe(true);
  });

  it('yields well-formed XML that reads back the same for any text', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'binary', minLength: 1 }),
        fc.string({ unit: 'binary' }),
        fc.constantFrom('fail', 'error', 'flaky', 'skip', 'pass'),
        (title, actual, status) => {
          const report = oneCaseReport({ title, actual, expected: actual, status, invariant: null });
          const tc = testcases(toJunitXml(report))[0]!;
          expect(tc.attributes.name).toBe(visible(`${title} [${report.suites[0]!.cases[0]!.id}]`));
          if (status === 'fail' || status === 'error') {
            const el = only(tc, status === 'fail' ? 'failure' : 'error');
            expect(textOf(el)).toContain(visible(`actual: ${actual}`));
          }
          if (status === 'skip') expect(only(tc, 'skipped').attributes.message).toBe(visible(actual));
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('the test XML reader', () => {
  // The escaping tests are only as strict as the reader; check that it refuses what XML refuses.
  it.each([
    ['raw <', '<a>x < y</a>'],
    ['bare &', '<a>x & y</a>'],
    ['unknown entity', '<a>&nbsp;</a>'],
    ['control character', '<a>\u0001</a>'],
    ['reference to a control character', '<a>&#1;</a>'],
    ['mismatched tag', '<a><b></a></b>'],
    ['unclosed', '<a><b/>'],
    ['duplicate attribute', '<a x="1" x="2"/>'],
    ['< in attribute', '<a x="<"/>'],
    ['trailing content', '<a/><b/>'],
  ])('rejects %s', (_what, doc) => {
    expect(() => parseXml(doc)).toThrow();
  });

  it('normalizes like XML: line ends in text, whitespace in attributes', () => {
    const el = parseXml('<a x="1\t2\n3" y="&#9;&#10;">l1\r\nl2\rl3&#13;</a>');
    expect(el.attributes).toEqual({ x: '1 2 3', y: '\t\n' });
    expect(textOf(el)).toBe('l1\nl2\nl3\r');
  });
});
