/**
 * `netlab serve STACK --listen URL`: runs one stack's server on real sockets (the real runtime,
 * impl/runtime/node.ts) until SIGINT or SIGTERM, so third-party clients and load tools can drive it.
 * The command every stack's server uses: SERVE_STACKS maps a STACK name to the function that starts
 * it; the HTTP/1.1, qrpc and HTTP/2 stacks add their rows there.
 *
 * Prints exactly `listening URL` (the bound address, with the real port when :0 was asked) on
 * stdout once it accepts. On SIGINT/SIGTERM: stop accepting, let in-flight work finish for at most
 * --drain-timeout, close the rest, exit 0; with --json, one JSON object on stdout at exit:
 * `{ accepted, closed: { REASON: count }, bytesIn, bytesOut, writeInterestRegistrations }`.
 * A usage error (unknown stack, bad duration, bad flag, missing --listen) or an address in use
 * exits 2 with a message on stderr.
 */
import { NetError } from '../../impl/runtime/env.js';
import { createNodeEnv } from '../../impl/runtime/node.js';
import {
  DEFAULT_DRAIN_TIMEOUT_US,
  LOAD_BALANCE_POLICIES,
  ReactorError,
  serveEcho,
  type LoadBalance,
  type ReactorOptions,
  type ReactorServer,
} from '../../impl/reactor/index.js';
import type { Env } from '../../impl/runtime/env.js';
import { EXIT_OK, EXIT_USAGE, intFlag, parseFlags, UsageError, type Command } from './common.js';

/** What `netlab serve` needs of a running server, whatever its stack. */
export interface ServedServer {
  /** The bound address (tcp://host:port with the real port, or unix://path). */
  readonly address: string;
  /** Stops accepting, lets in-flight work finish for at most drainUs, closes the rest. */
  shutdown(drainUs: number): Promise<void>;
  /** The --json summary: accepted, closed by reason, bytesIn, bytesOut (and stack extras). */
  summary(): Record<string, unknown>;
}

/** One row of the STACK table. */
export interface ServeStack {
  summary: string;
  /** Starts the server; rejects with a NetError (EADDRINUSE...) or a ReactorError (ErrBadOption). */
  start(env: Env, address: string, options: ReactorOptions): Promise<ServedServer>;
}

/** A reactor server's --json summary. */
export function reactorSummary(server: ReactorServer): Record<string, unknown> {
  const s = server.stats;
  return {
    accepted: s.accepted,
    closed: { ...s.closed },
    bytesIn: s.bytesIn,
    bytesOut: s.bytesOut,
    writeInterestRegistrations: server.group.writeInterestRegistrations,
  };
}

function reactorServed(server: ReactorServer): ServedServer {
  return {
    address: server.address,
    shutdown: (drainUs) => server.shutdown(drainUs),
    summary: () => reactorSummary(server),
  };
}

/** STACK → server. Other stacks (http1, qrpc, http2) add their rows here. */
export const SERVE_STACKS: Record<string, ServeStack> = {
  'echo-reactor': {
    summary: 'the reactor echo (impl/reactor/echo.ts): every byte received is written back',
    start: async (env, address, options) => reactorServed(await serveEcho(env, address, options)),
  },
};

const US_PER_MS = 1000;
const US_PER_S = 1_000_000;

/** A duration flag: a non-negative number with `ms` or `s` (500ms, 2s, 1.5s), in whole µs. */
export function durationFlagUs(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const m = /^(\d+(?:\.\d+)?)(ms|s)$/.exec(value.trim());
  if (m === null) throw new UsageError(`--${name} must be a duration such as 500ms or 2s, got '${value}'`);
  const us = Math.round(Number(m[1]) * (m[2] === 'ms' ? US_PER_MS : US_PER_S));
  if (!Number.isSafeInteger(us)) throw new UsageError(`--${name} is too large: '${value}'`);
  return us;
}

const USAGE = `usage: netlab serve STACK --listen URL [--loops N] [--lb round-robin|random|least-connections]
                    [--idle-timeout DUR] [--read-timeout DUR] [--write-timeout DUR]
                    [--drain-timeout DUR] [--json]

Runs STACK's server on real sockets until SIGINT or SIGTERM. Prints \`listening URL\` on stdout once
it accepts (the real port when :0 was asked). On the signal it stops accepting, lets in-flight work
finish for at most --drain-timeout, closes the rest and exits 0.
STACK:
${Object.entries(SERVE_STACKS)
  .map(([name, s]) => `  ${name.padEnd(14)}${s.summary}`)
  .join('\n')}
  --listen URL         tcp://host:port (port 0: any) or unix:///path
  --loops N            event loops (partitions of Node's one thread on real sockets; default 1)
  --lb POLICY          how new connections are spread over the loops (default round-robin)
  --idle-timeout DUR   close a connection with no input and no output for DUR (default 5 min)
  --read-timeout DUR   a blocking read waits at most DUR (default 30s)
  --write-timeout DUR  a flush that cannot drain within DUR fails (default 30s)
  --drain-timeout DUR  on SIGINT/SIGTERM, in-flight work gets DUR (default ${DEFAULT_DRAIN_TIMEOUT_US / US_PER_S}s)
  --json               at exit, print one JSON object: { accepted, closed: { REASON: count },
                       bytesIn, bytesOut, writeInterestRegistrations }
DUR is a number with ms or s: 500ms, 2s. A duration of 0 means none.
Exit codes: 0 after SIGINT/SIGTERM, 2 for a usage error or an address in use.`;

function waitForSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const on = (signal: NodeJS.Signals): void => {
      process.off('SIGINT', on);
      process.off('SIGTERM', on);
      resolve(signal);
    };
    process.on('SIGINT', on);
    process.on('SIGTERM', on);
  });
}

/** The reactor options the flags give (only those given: the rest keep their defaults). */
export function serveOptionsFromFlags(values: Record<string, string | boolean | undefined>): ReactorOptions {
  const options: ReactorOptions = {};
  const str = (k: string): string | undefined => values[k] as string | undefined;
  if (str('loops') !== undefined) options.loops = intFlag('loops', str('loops'), 1, 1, 256);
  const lb = str('lb');
  if (lb !== undefined) {
    if (!(LOAD_BALANCE_POLICIES as readonly string[]).includes(lb))
      throw new UsageError(`--lb must be one of ${LOAD_BALANCE_POLICIES.join(', ')}, got '${lb}'`);
    options.loadBalance = lb as LoadBalance;
  }
  const idle = durationFlagUs('idle-timeout', str('idle-timeout'));
  if (idle !== undefined) options.idleTimeoutUs = idle;
  const read = durationFlagUs('read-timeout', str('read-timeout'));
  if (read !== undefined) options.readTimeoutUs = read;
  const write = durationFlagUs('write-timeout', str('write-timeout'));
  if (write !== undefined) options.writeTimeoutUs = write;
  return options;
}

export const serveCommand: Command = {
  name: 'serve',
  summary: `run a stack's server on real sockets until SIGINT/SIGTERM (${Object.keys(SERVE_STACKS).join(', ')})`,
  usage: USAGE,
  async run(argv) {
    const { values, positionals } = parseFlags(
      argv,
      {
        listen: { type: 'string' },
        loops: { type: 'string' },
        lb: { type: 'string' },
        'idle-timeout': { type: 'string' },
        'read-timeout': { type: 'string' },
        'write-timeout': { type: 'string' },
        'drain-timeout': { type: 'string' },
        json: { type: 'boolean' },
      },
      true,
    );
    if (positionals.length !== 1)
      throw new UsageError(
        `expected one STACK (${Object.keys(SERVE_STACKS).join(', ')}), got ${positionals.join(' ') || 'none'}`,
      );
    const name = positionals[0]!;
    const stack = SERVE_STACKS[name];
    if (stack === undefined)
      throw new UsageError(`unknown stack '${name}' (known: ${Object.keys(SERVE_STACKS).join(', ')})`);
    if (values.listen === undefined) throw new UsageError('--listen URL is required');
    const options = serveOptionsFromFlags(values);
    const drainUs = durationFlagUs('drain-timeout', values['drain-timeout']) ?? DEFAULT_DRAIN_TIMEOUT_US;

    const env = createNodeEnv({
      onCallbackError: (e) =>
        process.stderr.write(
          `netlab serve: a callback threw: ${e instanceof Error ? e.message : String(e)}\n`,
        ),
    });
    let server: ServedServer;
    try {
      server = await stack.start(env, values.listen, options);
    } catch (e) {
      await env.close().catch(() => undefined);
      if (e instanceof NetError && e.code === 'EADDRINUSE') {
        process.stderr.write(`netlab serve: cannot listen on ${values.listen}: address in use\n`);
        return EXIT_USAGE;
      }
      if (e instanceof NetError || e instanceof ReactorError) throw new UsageError(e.message);
      throw e;
    }
    // The signal handlers go in before the line that tells a waiting client it can connect.
    const signal = waitForSignal();
    process.stdout.write(`listening ${server.address}\n`);
    await signal;
    await server.shutdown(drainUs);
    const summary = server.summary();
    await env
      .close()
      .catch((e: unknown) =>
        process.stderr.write(`netlab serve: ${e instanceof Error ? e.message : String(e)}\n`),
      );
    // One line, after the `listening` line: the last line of stdout is the summary.
    if (values.json === true) process.stdout.write(JSON.stringify(summary) + '\n');
    return EXIT_OK;
  },
};
