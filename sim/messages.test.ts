/**
 * The simulator's refusals and transport errors as users read them: code and full message, for the
 * world, the event queue and the network. (Written to kill the StringLiteral mutants
 * `npm run mutate` leaves on error codes and messages no other test reads: README.)
 */
import { describe, expect, it } from 'vitest';
import { SimError } from './errors.js';
import { EventQueue } from './event-queue.js';
import { Network } from './net.js';
import { NetError, parseAddress, type StreamConn } from './stream.js';
import { World, type WorldMode } from './world.js';

const MS = 1000;

/** `code: message` of the SimError/NetError `fn` throws or its promise rejects with; 'ok' otherwise. */
async function outcome(fn: () => unknown): Promise<string> {
  try {
    await fn();
    return 'ok';
  } catch (e) {
    if (e instanceof SimError) return e.message; // starts with its code
    if (e instanceof NetError) return e.message; // starts with its code too
    return `other: ${String(e)}`;
  }
}

describe('World refusals', () => {
  it('bad options, runs and closes', async () => {
    const r = [
      await outcome(() => new World({ seed: {} as unknown as string })),
      await outcome(() => new World({ seed: 1, mode: 'turbo' as WorldMode })),
      await outcome(() => new World({ seed: 1 }).run({ maxEvents: -1 })),
      await outcome(() => new World({ seed: 1, maxPendingEvents: 0 })),
    ];
    const w = new World({ seed: 1 });
    w.post(5, () => undefined, undefined);
    await w.run();
    r.push(await outcome(() => w.run({ untilUs: 1 })));
    w.setTimer(1, async () => {
      await w.sleep(1);
    });
    const running = w.run();
    r.push(await outcome(() => w.run()), await outcome(() => w.close()));
    await running;
    w.close();
    r.push(await outcome(() => w.run()));
    expect(r).toEqual([
      'ERR_BAD_ARGUMENT: seed must be a string or number, got object',
      "ERR_BAD_ARGUMENT: mode must be 'fast' or 'strict', got turbo",
      'ERR_BAD_ARGUMENT: maxEvents must be an integer >= 0, got -1',
      'ERR_BAD_ARGUMENT: maxPendingEvents must be a positive integer, got 0',
      'ERR_BAD_DELAY: untilUs 1 is before the current time 5',
      'ERR_WORLD_RUNNING: run() while a run is in progress',
      'ERR_WORLD_RUNNING: close() during run(); call stop() from inside the run instead',
      'ERR_WORLD_FINISHED: the world is closed; create a new world to run again',
    ]);
  });

  it('an event that throws names the time and the error', async () => {
    const w = new World({ seed: 1 });
    w.post(
      3,
      () => {
        throw new RangeError('boom');
      },
      undefined,
    );
    expect(await outcome(() => w.run())).toBe('ERR_EVENT_THREW: an event at t=3us threw: RangeError: boom');
  });

  it('a foreign timer handle', async () => {
    const w = new World({ seed: 1 });
    const other = new World({ seed: 2 });
    expect(await outcome(() => w.clearTimer(other.setTimer(1, () => undefined)))).toBe(
      'ERR_FOREIGN_TIMER: clearTimer was given a handle that is not a timer of this world',
    );
  });

  it('a full event queue says how many events it holds', () => {
    const q = new EventQueue(2, 1);
    q.push(1, () => undefined, undefined);
    q.push(2, () => undefined, undefined);
    let message = '';
    try {
      q.push(3, () => undefined, undefined);
    } catch (e) {
      message = (e as SimError).message;
    }
    expect(message).toBe(
      'ERR_QUEUE_FULL: more than 2 pending events (raise maxPendingEvents if the workload needs it)',
    );
  });
});

describe('Network refusals', () => {
  it('hosts: bad names, duplicates, unknown names, another host timer, unknown connections', async () => {
    const net = new Network(new World({ seed: 'hosts' }));
    const a = net.addHost('a');
    const b = net.addHost('b');
    const t = b.env.setTimer(5, () => undefined);
    expect([
      await outcome(() => net.addHost('9x')),
      await outcome(() => net.addHost('a')),
      await outcome(() => net.host('nope')),
      await outcome(() => a.env.clearTimer(t)),
      await outcome(() => net.resetConnection(99)),
    ]).toEqual([
      'ERR_BAD_ARGUMENT: host name must start with a letter and use [A-Za-z0-9_.-], got "9x"',
      'ERR_BAD_ARGUMENT: host a already exists',
      'ERR_BAD_ARGUMENT: no host named "nope"',
      'ERR_FOREIGN_TIMER: clearTimer on host a was given a handle that is not one of its timers',
      'ERR_BAD_ARGUMENT: no live connection 99',
    ]);
  });
});

describe('transport errors', () => {
  async function connectError(
    setup: (net: Network) => void,
    address: string,
    options?: { timeoutUs?: number },
  ): Promise<string> {
    const world = new World({ seed: 'connect' });
    const net = new Network(world);
    net.addHost('a');
    net.addHost('b');
    setup(net);
    let got = 'no callback';
    net.host('a').env.connect(address, (err) => (got = err === undefined ? 'ok' : err.message), options);
    await world.run();
    return got;
  }

  it('connect: unknown host, bad timeout, nothing listening, no answer', async () => {
    const listen = (net: Network): void =>
      net.host('b').env.listen(
        'tcp://b:80',
        () => undefined,
        () => undefined,
      );
    expect([
      await connectError(() => undefined, 'tcp://zz:80'),
      await connectError(() => undefined, 'tcp://b:80', { timeoutUs: 0 }),
      await connectError(() => undefined, 'tcp://b:80'),
      await connectError(
        (net) => {
          listen(net);
          net.partition(['a'], ['b']);
        },
        'tcp://b:80',
        { timeoutUs: 5 * MS },
      ),
    ]).toEqual([
      'EINVAL: no host named "zz" in the simulated network',
      'EINVAL: connect timeoutUs must be a positive number, got 0',
      'ECONNREFUSED: nothing listens at tcp://b:80 on host b',
      'ETIMEDOUT: connect to tcp://b:80 timed out after 5000 us',
    ]);
  });

  it('listen on an address in use; writes after shutdown and after close; a reset', async () => {
    const world = new World({ seed: 'conn-errors' });
    const net = new Network(world);
    const a = net.addHost('a');
    const b = net.addHost('b');
    const seen: string[] = [];
    let server: StreamConn | undefined;
    b.env.listen(
      'tcp://b:80',
      (c) => {
        server = c;
        c.setHandlers({ onClose: (e) => seen.push(`server closed: ${e?.message}`) });
      },
      () => undefined,
    );
    b.env.listen(
      'tcp://b:80',
      () => undefined,
      (err) => seen.push(String(err?.message)),
    );
    let client: StreamConn | undefined;
    a.env.connect('tcp://b:80', (_err, c) => (client = c));
    await world.run({ forUs: 10 * MS });
    client!.shutdown();
    seen.push(await outcome(() => client!.write(Uint8Array.of(1))));
    net.resetConnection(net.connections()[0]!.id, 'chaos');
    await world.run({ forUs: 10 * MS });
    seen.push(await outcome(() => server!.write(Uint8Array.of(1))));
    const id = 1; // the first connection of the network
    expect(seen).toEqual([
      'EADDRINUSE: tcp://b:80 is already in use on host b',
      `EPIPE: write after shutdown or close on connection ${id}`,
      `server closed: ECONNRESET: connection ${id} reset: chaos`,
      `ENOTCONN: write on closed connection ${id}`,
    ]);
  });

  it('a segment lost more than maxRetransmits times: ETIMEDOUT for the sender, ECONNRESET for its peer', async () => {
    const world = new World({ seed: 'rto' });
    const net = new Network(world, { conn: { maxRetransmits: 2 } });
    const a = net.addHost('a');
    const b = net.addHost('b');
    const seen: string[] = [];
    b.env.listen(
      'tcp://b:80',
      (c) => c.setHandlers({ onClose: (e) => seen.push(`b: ${e?.message}`) }),
      () => undefined,
    );
    let client: StreamConn | undefined;
    a.env.connect('tcp://b:80', (_err, c) => {
      client = c;
      c!.setHandlers({ onClose: (e) => seen.push(`a: ${e?.message}`) });
    });
    await world.run({ forUs: 10 * MS });
    net.setLink('a', 'b', { lossRate: 1 });
    client!.write(Uint8Array.of(1, 2, 3));
    await world.run();
    expect(seen.sort()).toEqual([
      'a: ETIMEDOUT: connection 1 timed out: retransmission timeout',
      'b: ECONNRESET: connection 1 reset: retransmission timeout',
    ]);
  });
});

describe('address parsing messages', () => {
  it('names a non-string or empty address as such, not as a malformed one', () => {
    const message = (text: unknown): string => {
      try {
        parseAddress(text as string);
        return 'parsed';
      } catch (e) {
        return (e as NetError).message;
      }
    };
    expect([message(42), message(''), message('tcp://a')]).toEqual([
      'EINVAL: address must be a non-empty string, got 42',
      'EINVAL: address must be a non-empty string, got ""',
      'EINVAL: expected tcp://host:port, got "tcp://a"',
    ]);
  });
});

describe('link change messages', () => {
  it('name the link (both directions) and the field that is wrong', () => {
    const world = new World({ seed: 'link-messages' });
    const net = new Network(world);
    net.addHost('a');
    net.addHost('b');
    const message = (f: () => void): string => {
      try {
        f();
        return 'accepted';
      } catch (e) {
        return (e as Error).message;
      }
    };
    expect(message(() => net.setLink('a', 'b', { lossRate: 2 }))).toMatch(/link a>b\.lossRate/);
    expect(message(() => net.setLink('a', 'b', { jitterUs: -1 }))).toMatch(/link a>b\.jitterUs/);
  });
});
