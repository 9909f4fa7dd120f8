/** The reactor scenario model: defaults, JSON paths in errors, the client streams. */
import { describe, expect, it } from 'vitest';
import { clientStream, ScenarioError } from './model.js';
import { defineReactorScenario } from './run.js';

const base = {
  hosts: ['server', 'client0'],
  servers: [{ name: 'server', host: 'server', listen: 'tcp://server:7000' }],
  clients: [{ name: 'client0', host: 'client0', connect: 'tcp://server:7000', actions: [] }],
};

describe('reactor scenario model', () => {
  it('fills in the defaults', () => {
    const s = defineReactorScenario(base);
    expect(s.servers[0]).toMatchObject({ handler: 'echo', handlerUs: 0, options: {}, startUs: 0 });
    expect(s.clients[0]!.startUs).toBe(0);
  });

  it('names the JSON path of a bad field', () => {
    expect(() =>
      defineReactorScenario({ ...base, servers: [{ ...base.servers[0]!, host: 'nowhere' }] }),
    ).toThrow(/servers\[0\]\.host/);
    expect(() =>
      defineReactorScenario({
        ...base,
        servers: [{ ...base.servers[0]!, options: { inputHighWaterBytes: 100, maxInputBytes: 10 } }],
      }),
    ).toThrow(/servers\[0\]\.options\.maxInputBytes/);
    expect(() =>
      defineReactorScenario({ ...base, servers: [{ ...base.servers[0]!, listen: 'tcp://client0:7000' }] }),
    ).toThrow(ScenarioError);
  });

  it('gives each client its own stream, frames length-prefixed', () => {
    const c = defineReactorScenario({
      ...base,
      clients: [
        {
          name: 'client0',
          host: 'client0',
          connect: 'tcp://server:7000',
          actions: [
            { kind: 'send', bytes: 3 },
            { kind: 'frame', bytes: 2 },
            { kind: 'frame', bytes: 0 },
          ],
        },
      ],
    }).clients[0]!;
    const a = clientStream(0, c);
    expect(a.bytes.length).toBe(3 + 6 + 4);
    expect([...a.bytes.subarray(3, 7)]).toEqual([0, 0, 0, 2]);
    expect(a.frameEnds).toEqual([9, 13]);
    expect(clientStream(1, c).bytes[0]).not.toBe(a.bytes[0]);
    for (let i = 1; i < 3; i++) expect(a.bytes[i]).not.toBe(a.bytes[i - 1]);
  });
});
