/**
 * REQ/REP interop with third-party SP peers over real loopback TCP and ipc: netlab (the library on
 * the real runtime) against nngcat (nng 1.5.2) and nanocat (nanomsg 1.1.5) in both roles and both
 * connection directions (the interop matrix's cells, shared with `netlab interop`); 1000 sequential
 * requests to a looping nngcat REP; a request of exactly the max receive size echoed back; the
 * resend on a new pipe after the REP died (nngcat restarted, and a node:net REP that records the
 * request ids on the wire); and `netlab cat --req0/--rep0` against nngcat, compared with nngcat in
 * the same role. Missing peers fail the test under NETLAB_REQUIRE_PEERS=1 (CI) and skip it
 * otherwise.
 */
import { writeFileSync } from 'node:fs';
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { afterAll, describe, expect, it, vi } from 'vitest';
import type { NodeEnv } from '../../../impl/runtime/node.js';
import type { Socket } from '../../../impl/sp/core/socket.js';
import { openRep0 } from '../../../impl/sp/protocol/rep0.js';
import { openReq0 } from '../../../impl/sp/protocol/req0.js';
import { cellTitle, dialectOf, directCells, runCell } from './matrix.js';
import { interopAddress, waitUntilListening, withRealEnv } from './support.js';
import {
  freeTcpPort,
  gatePeers,
  runPeer,
  startPeer,
  stopAllPeers,
  tempIpcPath,
  type PeerResult,
} from '../../interop/harness.js';

vi.setConfig({ testTimeout: 20_000 });
afterAll(async () => {
  await stopAllPeers();
});

const NETLAB = new URL('../../../bin/netlab', import.meta.url).pathname;
const SECOND_US = 1_000_000;
const MS_US = 1000;

const text = (s: string): Uint8Array => new TextEncoder().encode(s);
const str = (b: Uint8Array): string => new TextDecoder().decode(b);
/** What nngcat --hex prints for one message. */
const hexLine = (s: string): string =>
  `"${[...text(s)].map((b) => `\\x${b.toString(16).padStart(2, '0')}`).join('')}"\n`;

interface PeerCmd {
  command: 'nngcat' | 'nanocat';
  req: string;
  rep: string;
  dial: string;
  listen: string;
  /** nngcat stops after --count replies; nanocat has no --count and answers until killed. */
  countOne: string[];
}
const PEERS: PeerCmd[] = [
  {
    command: 'nngcat',
    req: '--req0',
    rep: '--rep0',
    dial: '--dial',
    listen: '--listen',
    countOne: ['--count', '1'],
  },
  { command: 'nanocat', req: '--req', rep: '--rep', dial: '--connect', listen: '--bind', countOne: [] },
];

const address = (transport: 'tcp' | 'ipc', tag: string): Promise<string> =>
  interopAddress(transport, `reqrep-${tag}`);
const withEnv = <T>(fn: (env: NodeEnv, sockets: Socket[]) => Promise<T>): Promise<T> =>
  withRealEnv('interop-reqrep', fn);

/** Dial options for a netlab socket whose peer may still be binding: retry quickly in the background. */
const DIAL_EARLY = { 'DIAL-ASYNCH': true, 'RECONNECT-TIME': 20 * MS_US } as const;

// The matrix cells (scenarios/sp/interop/cells.ts), shared with `netlab interop`: both roles, both transports.
describe.concurrent('REQ/REP interop cells (the netlab interop matrix)', () => {
  for (const cell of directCells(['req0', 'rep0'])) {
    it(cellTitle(cell), async (ctx) => {
      gatePeers(ctx, [dialectOf(cell.peer).command]);
      const r = await runCell(cell, { timeoutMs: 15_000 });
      expect(r.status, r.detail).toBe('pass');
    });
  }
});

for (const peer of PEERS) {
  for (const transport of ['tcp', 'ipc'] as const) {
    describe(`REQ/REP interop: netlab <-> ${peer.command} over ${transport}`, () => {
      it(`${peer.command} REQ sends a request of exactly the max receive size (--file); netlab REP echoes it`, async (ctx) => {
        gatePeers(ctx, [peer.command]);
        const url = await address(transport, `${peer.command}-big`);
        const maxRecvBytes = 1024 * 1024;
        // The limit is on the wire frame, and a request frame is the 4-byte request id + the body.
        const REQUEST_ID_BYTES = 4;
        const big = new Uint8Array(maxRecvBytes - REQUEST_ID_BYTES);
        for (let i = 0; i < big.length; i++) big[i] = (i * 131) & 0xff;
        const file = tempIpcPath(`reqrep-big-${peer.command}-${transport}.bin`);
        writeFileSync(file, big);
        await withEnv(async (env, sockets) => {
          const rep = openRep0(env, {
            options: { 'RECV-DEADLINE': 8 * SECOND_US, 'MAX-RCV-SIZE': maxRecvBytes },
          });
          sockets.push(rep);
          await rep.listen(url);
          const p = startPeer({
            command: peer.command,
            args: [peer.req, peer.dial, url, '--file', file, '--raw'],
            timeoutMs: 15_000,
          });
          const got = await rep.recv();
          expect(got.length).toBe(big.length);
          expect(Buffer.compare(Buffer.from(got), Buffer.from(big))).toBe(0);
          await rep.send(got);
          const result = await p.done;
          expect(result.code).toBe(0);
          expect(result.stdout.length).toBe(big.length);
          expect(Buffer.compare(Buffer.from(result.stdout), Buffer.from(big))).toBe(0);
        });
      });
    });
  }
}

for (const transport of ['tcp', 'ipc'] as const) {
  describe(`REQ/REP: netlab REQ against nngcat REP over ${transport}`, () => {
    it('1000 sequential requests to a looping nngcat REP all get their reply, each request seen once', async (ctx) => {
      gatePeers(ctx, ['nngcat']);
      const url = await address(transport, 'loop');
      const REQUESTS = 1000;
      // Without --count nngcat's resploop answers forever; the harness kills it at the end.
      const p = startPeer({
        command: 'nngcat',
        args: ['--rep0', '--listen', url, '--data', 'pong', '--quoted'],
        timeoutMs: 15_000,
      });
      await withEnv(async (env, sockets) => {
        const req = openReq0(env, { options: { ...DIAL_EARLY, 'RECV-DEADLINE': 5 * SECOND_US } });
        sockets.push(req);
        await req.dial(url);
        let replies = 0;
        for (let i = 0; i < REQUESTS; i++) {
          await req.send(text(`req-${i}`));
          if (str(await req.recv()) === 'pong') replies++;
        }
        expect(replies).toBe(REQUESTS);
      });
      const expected = Array.from({ length: REQUESTS }, (_, i) => `"req-${i}"\n`).join('');
      await p.waitForOutput((o) => o.stdout.length >= expected.length, 5_000);
      const result = await p.stop();
      // Every request printed exactly once and in order: no spurious resends.
      expect(str(result.stdout)).toBe(expected);
    });

    it('nngcat REP killed before answering: netlab REQ resends at once on the new pipe, same body', async (ctx) => {
      gatePeers(ctx, ['nngcat']);
      const url = await address(transport, 'restart');
      // Without --data nngcat runs recvloop: it prints requests and never answers them.
      const first = startPeer({
        command: 'nngcat',
        args: ['--rep0', '--listen', url, '--hex'],
        timeoutMs: 15_000,
      });
      await withEnv(async (env, sockets) => {
        const req = openReq0(env, {
          options: {
            'RETRY-TIME': 60 * SECOND_US, // a resend seen within seconds cannot be the timer's
            'DIAL-ASYNCH': true,
            'RECONNECT-TIME': 50 * MS_US,
            'RECV-DEADLINE': 10 * SECOND_US,
          },
        });
        sockets.push(req);
        await req.dial(url);
        await req.send(text('restart-me'));
        const reply = req.recv();
        reply.catch(() => undefined); // awaited below; a rejection must not count as unhandled meanwhile
        await first.waitForOutput((o) => o.stdout.includes(hexLine('restart-me')), 5_000);
        await first.stop();
        const restartMs = performance.now();
        const second = startPeer({
          command: 'nngcat',
          args: ['--rep0', '--listen', url, '--data', 'pong', '--hex', '--count', '1'],
          timeoutMs: 15_000,
        });
        expect(str(await reply)).toBe('pong');
        expect(performance.now() - restartMs).toBeLessThan(5_000);
        const result = await second.done;
        expect(str(result.stdout)).toBe(hexLine('restart-me'));
        expect(result.code).toBe(0);
      });
    });
  });
}

/** Frames of one direction of an SP stream: u64 BE length (after a 0x01 type byte on ipc) + payload. */
class FrameReader {
  private buf = Buffer.alloc(0);
  constructor(private readonly typeByte: boolean) {}

  push(chunk: Buffer): Buffer[] {
    this.buf = Buffer.concat([this.buf, chunk]);
    const frames: Buffer[] = [];
    const prefixBytes = this.typeByte ? 9 : 8;
    while (this.buf.length >= prefixBytes) {
      const len = Number(this.buf.readBigUInt64BE(prefixBytes - 8));
      if (this.buf.length < prefixBytes + len) break;
      frames.push(this.buf.subarray(prefixBytes, prefixBytes + len));
      this.buf = this.buf.subarray(prefixBytes + len);
    }
    return frames;
  }
}

function encodeFrame(payload: Buffer, typeByte: boolean): Buffer {
  const prefix = Buffer.alloc(typeByte ? 9 : 8);
  if (typeByte) prefix[0] = 0x01;
  prefix.writeBigUInt64BE(BigInt(payload.length), typeByte ? 1 : 0);
  return Buffer.concat([prefix, payload]);
}

const REP0_HANDSHAKE = Buffer.from([0x00, 0x53, 0x50, 0x00, 0x00, 0x31, 0x00, 0x00]);
const HANDSHAKE_BYTES = 8;

interface SeenRequest {
  connection: number;
  id: number;
  body: string;
}

/**
 * A REP made of node:net and the SP wire rules, so the test can see request ids, which nngcat's
 * cooked REP keeps to itself: it drops the first connection as soon as a request arrives (a REP that
 * died before answering) and answers "pong" on every later one.
 */
async function idRecordingRep(
  transport: 'tcp' | 'ipc',
): Promise<{ url: string; seen: SeenRequest[]; close: () => Promise<void> }> {
  const seen: SeenRequest[] = [];
  const typeByte = transport === 'ipc';
  let connections = 0;
  const server = net.createServer((sock) => {
    const connection = ++connections;
    sock.on('error', () => undefined);
    sock.write(REP0_HANDSHAKE);
    let handshake = Buffer.alloc(0);
    const frames = new FrameReader(typeByte);
    sock.on('data', (chunk: Buffer) => {
      if (handshake.length < HANDSHAKE_BYTES) {
        const need = HANDSHAKE_BYTES - handshake.length;
        handshake = Buffer.concat([handshake, chunk.subarray(0, need)]);
        chunk = chunk.subarray(need);
      }
      for (const frame of frames.push(chunk)) {
        const id = frame.readUInt32BE(0);
        seen.push({ connection, id, body: frame.subarray(4).toString('utf8') });
        if (connection === 1) {
          sock.destroy();
          return;
        }
        const header = Buffer.alloc(4);
        header.writeUInt32BE(id, 0);
        sock.write(encodeFrame(Buffer.concat([header, Buffer.from('pong')]), typeByte));
      }
    });
  });
  let url: string;
  if (transport === 'tcp') {
    await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
    url = `tcp://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
  } else {
    const path = tempIpcPath('reqrep-ids');
    await new Promise<void>((res) => server.listen(path, res));
    url = `ipc://${path}`;
  }
  return {
    url,
    seen,
    close: () =>
      new Promise<void>((res) => {
        server.close(() => res());
      }),
  };
}

for (const transport of ['tcp', 'ipc'] as const) {
  describe(`REQ resend on a new pipe, request ids on the wire (${transport})`, () => {
    it('the resent request carries the same id as the one lost with the first connection', async () => {
      const fake = await idRecordingRep(transport);
      try {
        await withEnv(async (env, sockets) => {
          const req = openReq0(env, {
            options: {
              'RETRY-TIME': 60 * SECOND_US,
              'DIAL-ASYNCH': true,
              'RECONNECT-TIME': 50 * MS_US,
              'RECV-DEADLINE': 10 * SECOND_US,
            },
          });
          sockets.push(req);
          const startMs = performance.now();
          await req.dial(fake.url);
          await req.send(text('same-id'));
          expect(str(await req.recv())).toBe('pong');
          expect(performance.now() - startMs).toBeLessThan(5_000);
        });
        expect(fake.seen.map((r) => [r.connection, r.body])).toEqual([
          [1, 'same-id'],
          [2, 'same-id'],
        ]);
        const [lost, resent] = fake.seen;
        // A request id is the last header word and has its top bit set.
        expect(lost!.id >>> 31).toBe(1);
        expect(resent!.id).toBe(lost!.id);
      } finally {
        await fake.close();
      }
    });
  });
}

/** One exchange between a listening and a dialing command; both run to completion. */
async function exchange(
  listener: { command: string; args: string[] },
  dialer: { command: string; args: string[] },
  url: string,
): Promise<{ listener: PeerResult; dialer: PeerResult }> {
  const l = startPeer({ ...listener, timeoutMs: 15_000 });
  await waitUntilListening(url, 8_000);
  const d = await runPeer({ ...dialer, timeoutMs: 15_000 });
  return { listener: await l.done, dialer: d };
}

/** What a comparison looks at: printed output, error message and exit status. */
const outcome = (r: PeerResult): { stdout: string; stderr: string; code: number | null } => ({
  stdout: str(r.stdout),
  stderr: r.stderr.trim(),
  code: r.code,
});

type Side = 'listener' | 'dialer';

/**
 * Runs the same exchange twice, the `ours` side played once by nngcat and once by netlab cat (the
 * other side is nngcat both times), and expects the same outcome on both sides.
 */
async function compareWithNngcat(
  oursSide: Side,
  args: Record<Side, (url: string) => string[]>,
): Promise<{ listener: ReturnType<typeof outcome>; dialer: ReturnType<typeof outcome> }> {
  const run = async (ourCommand: 'nngcat' | 'netlab') => {
    const url = `tcp://127.0.0.1:${await freeTcpPort()}`;
    const cmd = (side: Side): { command: string; args: string[] } =>
      side === oursSide && ourCommand === 'netlab'
        ? { command: NETLAB, args: ['cat', ...args[side](url)] }
        : { command: 'nngcat', args: args[side](url) };
    const r = await exchange(cmd('listener'), cmd('dialer'), url);
    return { listener: outcome(r.listener), dialer: outcome(r.dialer) };
  };
  const reference = await run('nngcat');
  const ours = await run('netlab');
  expect(ours).toEqual(reference);
  return ours;
}

describe('netlab cat <-> nngcat (req0/rep0), compared with nngcat in the same role', () => {
  const mode = (side: Side): '--listen' | '--dial' => (side === 'listener' ? '--listen' : '--dial');
  /** A REP that answers one request (resploop), on the given side of the connection. */
  const repOnce = (side: Side) => (url: string) => [
    '--rep0',
    mode(side),
    url,
    '--data',
    'pong',
    '--quoted',
    '--count',
    '1',
  ];
  /** A REQ that sends one request and prints the replies (sendrecv). */
  const reqOnce = (side: Side) => (url: string) => ['--req0', mode(side), url, '--data', 'ping', '--quoted'];

  for (const ours of ['req0', 'rep0'] as const) {
    for (const oursSide of ['dialer', 'listener'] as const) {
      it(`netlab cat --${ours} as the ${oursSide}: same output and exit codes as nngcat`, async (ctx) => {
        gatePeers(ctx, ['nngcat']);
        const other: Side = oursSide === 'dialer' ? 'listener' : 'dialer';
        const reqSide = ours === 'req0' ? oursSide : other;
        const repSide = ours === 'req0' ? other : oursSide;
        const args =
          reqSide === 'dialer'
            ? { dialer: reqOnce('dialer'), listener: repOnce('listener') }
            : { listener: reqOnce('listener'), dialer: repOnce('dialer') };
        const got = await compareWithNngcat(oursSide, args);
        // And what nngcat does here, so a change on both sides cannot pass unnoticed.
        expect(got[reqSide]).toEqual({ stdout: '"pong"\n', stderr: '', code: 0 });
        expect(got[repSide]).toEqual({ stdout: '"ping"\n', stderr: '', code: 0 });
      });
    }
  }

  it('netlab cat --rep0 without --data prints the request and never answers (recvloop)', async (ctx) => {
    gatePeers(ctx, ['nngcat']);
    const got = await compareWithNngcat('listener', {
      listener: (url) => ['--rep0', '--listen', url, '--quoted', '--count', '1'],
      dialer: (url) => ['--req0', '--dial', url, '--data', 'ping', '--quoted', '--recv-timeout', '1'],
    });
    expect(got.listener).toEqual({ stdout: '"ping"\n', stderr: '', code: 0 });
    // The REQ's receive timed out: nngcat ends the loop quietly with status 0.
    expect(got.dialer).toEqual({ stdout: '', stderr: '', code: 0 });
  });

  it('netlab cat --req0 whose request is never answered times out quietly, exit 0', async (ctx) => {
    gatePeers(ctx, ['nngcat']);
    const got = await compareWithNngcat('dialer', {
      listener: (url) => ['--rep0', '--listen', url, '--quoted', '--count', '1'],
      dialer: (url) => ['--req0', '--dial', url, '--data', 'ping', '--quoted', '--recv-timeout', '1'],
    });
    expect(got.dialer).toEqual({ stdout: '', stderr: '', code: 0 });
  });

  it('netlab cat --req0 with --interval and --count sends again after each reply', async (ctx) => {
    gatePeers(ctx, ['nngcat']);
    const got = await compareWithNngcat('dialer', {
      listener: (url) => ['--rep0', '--listen', url, '--data', 'pong', '--quoted', '--count', '2'],
      dialer: (url) => [
        '--req0',
        '--dial',
        url,
        '--data',
        'ping',
        '--quoted',
        '--interval',
        '1',
        '--count',
        '2',
      ],
    });
    expect(got.dialer).toEqual({ stdout: '"pong"\n"pong"\n', stderr: '', code: 0 });
    expect(got.listener).toEqual({ stdout: '"ping"\n"ping"\n', stderr: '', code: 0 });
  });

  it('netlab cat --rep0 --data with a receive timeout and no request: "Receive error: Timed out", exit 1', async (ctx) => {
    gatePeers(ctx, ['nngcat']);
    const args = ['--rep0', '--listen', `tcp://127.0.0.1:${await freeTcpPort()}`, '--data', 'pong'];
    const theirs = await runPeer({
      command: 'nngcat',
      args: [...args, '--recv-timeout', '1'],
      timeoutMs: 10_000,
    });
    const ours = await runPeer({
      command: NETLAB,
      args: ['cat', ...args, '--recv-timeout', '1'],
      timeoutMs: 10_000,
    });
    // resploop treats every receive error as fatal, unlike recvloop.
    expect(outcome(theirs)).toEqual({ stdout: '', stderr: 'Receive error: Timed out', code: 1 });
    expect(outcome(ours)).toEqual(outcome(theirs));
  });
});
