/**
 * The parity suite's cases: workloads that must end with the same outcome on every runtime arm (real
 * TCP, real unix sockets, the simulated network). Runtime-neutral, so it also runs in a browser: no
 * node: imports and no test framework; parity.test.ts supplies the arms and the assertions. Adding
 * an arm is one entry there: a function that returns ParityEnvs.
 */
import type { Env, NetErrorCode, StreamConn, StreamListener } from '../../impl/runtime/env.js';
import { type EchoOutcome, runEchoClient, startEchoServer } from '../../impl/echo/echo.js';

/** What one arm provides for one case: two envs that can reach each other, and how to clean up. */
export interface ParityEnvs {
  client: Env;
  server: Env;
  /** Where the case's server listens (port 0 or a fresh unix path is fine: the bound address is used). */
  address: string;
  /** Releases everything the arm created (envs, worlds, temporary paths). */
  cleanup(): Promise<void>;
  /**
   * How to run work on this runtime. Real arms omit it (the work runs on the event loop by itself);
   * the simulated arm passes a function that runs the world until the work's promise settles.
   */
  drive?<T>(work: () => Promise<T>): Promise<T>;
}

/** The comparable result of a case: plain data, equal across arms. */
export interface ParityOutcome {
  error: NetErrorCode | null;
  closedCleanly: boolean;
  /** Length of each reply, in order. */
  replyLengths: number[];
  /** Every reply equals the message at its position. */
  repliesMatch: boolean;
}

export interface ParityCase {
  readonly name: string;
  readonly expected: ParityOutcome;
  run(): Promise<ParityOutcome>;
}

/** Deterministic filler bytes: a message's content depends only on its length and salt. */
export function patternBytes(lengthBytes: number, salt = 0): Uint8Array {
  const out = new Uint8Array(lengthBytes);
  for (let i = 0; i < lengthBytes; i++) out[i] = (i * 131 + salt * 17 + (i >>> 8)) & 0xff;
  return out;
}

function textBytes(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}

/** The echo case's messages: empty frames, tiny ones, and ones spanning many reads and short writes. */
export const PARITY_MESSAGES: readonly Uint8Array[] = [
  new Uint8Array(0),
  textBytes('hello'),
  patternBytes(1, 1),
  patternBytes(200 * 1024, 2),
  new Uint8Array(0),
  patternBytes(64 * 1024 + 1, 3),
  textBytes('bye'),
];

/** Large enough that the server cannot have read it all when it resets after the first chunk. */
const RESET_MESSAGE_BYTES = 512 * 1024;

function equalBytes(a: Uint8Array, b: Uint8Array | undefined): boolean {
  if (b === undefined || a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function summarize(outcome: EchoOutcome, sent: readonly Uint8Array[]): ParityOutcome {
  return {
    error: outcome.error,
    closedCleanly: outcome.closedCleanly,
    replyLengths: outcome.replies.map((r) => r.length),
    repliesMatch: outcome.replies.every((r, i) => equalBytes(r, sent[i])),
  };
}

/** A listener whose connections reset as soon as the first bytes arrive (with more still unread). */
function listenResetting(env: Env, address: string): Promise<StreamListener> {
  const done = env.defer<StreamListener>();
  env.listen(
    address,
    (conn: StreamConn) => {
      let reset = false;
      conn.setHandlers({
        onData: () => {
          if (reset) return;
          reset = true;
          // Stop reading first: on unix sockets (no RST) the peer sees ECONNRESET only when the
          // closing side leaves unread bytes behind.
          conn.pauseReading();
          conn.reset();
        },
      });
    },
    (error, listener) => {
      if (listener === undefined) done.reject(error);
      else done.resolve(listener);
    },
  );
  return done.promise;
}

/** The cases, bound to one arm; each run() makes fresh envs and cleans them up. */
export function parityCases(makeEnvs: () => Promise<ParityEnvs>): ParityCase[] {
  const run = async (body: (envs: ParityEnvs) => Promise<ParityOutcome>): Promise<ParityOutcome> => {
    const envs = await makeEnvs();
    try {
      const work = (): Promise<ParityOutcome> => body(envs);
      return await (envs.drive === undefined ? work() : envs.drive(work));
    } finally {
      await envs.cleanup();
    }
  };

  return [
    {
      name: 'echo of a fixed list of messages (empty, small, 200 KiB)',
      expected: {
        error: null,
        closedCleanly: true,
        replyLengths: PARITY_MESSAGES.map((m) => m.length),
        repliesMatch: true,
      },
      run: () =>
        run(async ({ client, server, address }) => {
          const echo = await startEchoServer(server, address);
          const outcome = await runEchoClient(client, echo.address, PARITY_MESSAGES);
          echo.close();
          return summarize(outcome, PARITY_MESSAGES);
        }),
    },
    {
      name: 'connect where nobody listens is refused',
      expected: { error: 'ECONNREFUSED', closedCleanly: false, replyLengths: [], repliesMatch: true },
      run: () =>
        run(async ({ client, server, address }) => {
          // Bind, then let go: the address is well-formed and known to be free.
          const echo = await startEchoServer(server, address);
          echo.close();
          const messages = [textBytes('anyone?')];
          return summarize(await runEchoClient(client, echo.address, messages), messages);
        }),
    },
    {
      name: 'server resets mid-stream: the client sees ECONNRESET',
      expected: { error: 'ECONNRESET', closedCleanly: false, replyLengths: [], repliesMatch: true },
      run: () =>
        run(async ({ client, server, address }) => {
          const listener = await listenResetting(server, address);
          const messages = [patternBytes(RESET_MESSAGE_BYTES, 4)];
          const outcome = await runEchoClient(client, listener.address, messages);
          listener.close();
          return summarize(outcome, messages);
        }),
    },
  ];
}
