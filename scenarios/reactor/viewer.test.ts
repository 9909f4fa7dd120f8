/** The reactor viewer: one view per connection from its trace notes and the tap's queue depths. */
import { describe, expect, it } from 'vitest';
import { defineReactorScenario, runReactorScenario } from './run.js';
import { buildDiagram } from '../../web/viewer-model.js';
import { reactorConnectionViews, reactorRequestSpans, reactorViewerDecoder } from './viewer.js';

describe('reactor viewer', () => {
  it("shows a connection's loop, buffer levels, write interest and request spans", async () => {
    const s = defineReactorScenario({
      hosts: ['server', 'client0'],
      servers: [
        {
          name: 'server',
          host: 'server',
          listen: 'tcp://server:7000',
          handler: 'framed',
          options: { loops: 2, idleTimeoutUs: 100_000 },
        },
      ],
      clients: [
        {
          name: 'client0',
          host: 'client0',
          connect: 'tcp://server:7000',
          startUs: 1000,
          actions: [
            // One 60 KB frame, answered with one write the 4 KiB socket cannot take whole.
            { kind: 'frame', bytes: 60_000 },
            { kind: 'half-close' },
          ],
        },
      ],
      network: { sendBufferBytes: 4096, recvBufferBytes: 4096 },
    });
    const r = await runReactorScenario(s, 'v1', { traceCapacity: 200_000 });
    const views = reactorConnectionViews(r.trace);
    expect(views).toHaveLength(1);
    const v = views[0]!;
    expect(v.loop).toBe(0);
    expect(v.closeReason).toBe('peer-closed');
    expect(v.input.length).toBeGreaterThan(0);
    expect(v.output.length).toBeGreaterThan(0);
    expect(v.writeInterestRegistrations).toBeGreaterThan(0);
    expect(v.requests.length).toBeGreaterThan(0);
    for (const [a, b] of v.requests) expect(b).toBeGreaterThanOrEqual(a);

    // The same invocations as spans on the server's column of the diagram.
    const spans = reactorRequestSpans(r.trace);
    expect(spans).toHaveLength(v.requests.length);
    for (const span of spans) {
      const start = r.trace[span.startEvent]!;
      const end = r.trace[span.endEvent]!;
      expect(start.kind === 'note' && start.text.startsWith('reactor request-start:')).toBe(true);
      expect(end.kind === 'note' && end.text.startsWith('reactor request:')).toBe(true);
      expect(start.host).toBe('server');
      expect(span.label).toMatch(/^onRequest conn \d+ loop 0 \(\d+ µs\)$/);
    }
    const diagram = buildDiagram(r.trace, [], [reactorViewerDecoder]);
    const bands = diagram.bands.filter((b) => b.kind === 'span');
    expect(bands).toHaveLength(spans.length);
    const serverColumn = diagram.hosts.findIndex((h) => h.name === 'server');
    expect(bands.every((b) => b.host === serverColumn)).toBe(true);
    expect(buildDiagram(r.trace).bands.filter((b) => b.kind === 'span')).toHaveLength(0);
  });
});
