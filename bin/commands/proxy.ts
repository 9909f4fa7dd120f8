/**
 * `netlab proxy`: the seeded fault proxy (impl/runtime/node-proxy.ts) as a command. It forwards
 * connections from --listen to --upstream with the faults the flags, a profile and a timeline file
 * describe (one fault plan, sim/FAULTS.md, compiled by impl/runtime/proxy-plan.ts), prints a line
 * per connection and runs until SIGINT or SIGTERM.
 */
import { createWriteStream, readFileSync, type WriteStream } from 'node:fs';
import { NetError } from '../../impl/runtime/env.js';
import {
  DEFAULT_PROXY_BUFFER_BYTES,
  DEFAULT_PROXY_CONNECT_TIMEOUT_US,
  DEFAULT_PROXY_MAX_CONNECTIONS,
  startFaultProxy,
  type FaultProxy,
  type ProxyConnectionRecord,
} from '../../impl/runtime/node-proxy.js';
import { planFromProxyDescription } from '../../impl/runtime/proxy-legacy.js';
import {
  compileProxyFaults,
  describeProxyFaults,
  PROXY_CLIENT_HOST,
  PROXY_PROFILE_NAMES,
  PROXY_SERVER_HOST,
  proxyProfilePlan,
  type ProxyFaults,
  type ProxyLogEntry,
} from '../../impl/runtime/proxy-plan.js';
import { SimError } from '../../sim/errors.js';
import { errorDetail, parseDurationUs, parseSizeBytes } from '../../sim/fault-limits.js';
import { parseFaultPlan, type FaultPlan, type ProxySettings, type ReadSide } from '../../sim/fault-plan.js';
import { EXIT_OK, EXIT_USAGE, intFlag, parseFlags, printJson, UsageError, type Command } from './common.js';

/** Log lines written to --log FILE at most (later entries are counted, not written). */
export const DEFAULT_LOG_FILE_LIMIT = 1_000_000;

const USAGE = `usage: netlab proxy --listen ADDR --upstream ADDR [--seed S] [--profile NAME] [--timeline FILE]
                    [--direction up|down|both] [fault flags] [--log FILE] [--json]

A TCP (or unix-socket) proxy that applies seeded faults to each connection: every decision is a
function of (seed, connection index, direction, byte offset), so the same bytes meet the same fate
however the kernel chunks them. Runs until SIGINT or SIGTERM; prints a line per connection.
The faults are a fault plan (sim/FAULTS.md), the simulator's language, run for each connection from
its accept; the profile, the file and the flags each add steps to it. Details: impl/runtime/PROXY.md.

  --listen ADDR        where clients connect: 127.0.0.1:PORT, tcp://HOST:PORT (port 0: any free
                       port; the bound address is printed) or ipc:///PATH
  --upstream ADDR      where the proxy dials for each client, same syntax
  --seed S             root seed of every decision (default: random, printed)
  --profile NAME       start from a named fault plan: ${PROXY_PROFILE_NAMES.join(', ')} (default none)
  --timeline FILE      JSON: a fault plan {"version": 1, "faults": [...], "proxy": {...}} whose hosts
                       are "${PROXY_CLIENT_HOST}" and "${PROXY_SERVER_HOST}" (the upstream); or, in the former format, an
                       array of timeline steps or a description {up, down, timeline, toxicity,
                       faultyConnections, segmentBytes}. Its steps follow the profile's (the flags'
                       follow both)

Fault flags (for --direction, default both; DUR like 20ms, 1.5s, 250us; SIZE like 4096, 64KiB, 1MB):
  --latency DUR        one-way delay per segment
  --jitter DUR         extra delay drawn in [0, DUR) per segment
  --bandwidth RATE     forwarding rate, e.g. 1MB/s, 64KiB/s (0 = unlimited)
  --slice MIN-MAX      write in slices of MIN..MAX bytes (or one size, e.g. 16)
  --slice-delay DUR    gap between slices (default 0; needs --slice)
  --stall-at SIZE      stop reading once SIZE bytes were read ...
  --stall-for DUR      ... for DUR (the two go together)
  --reset-at SIZE      reset both sides once SIZE bytes were forwarded
  --slow-close DUR     hold each end of stream (FIN) for DUR
  --limit SIZE         close the connection once SIZE bytes were forwarded
  --toxicity P         probability in [0, 1] that a connection gets the faults (default 1)
  --faulty-connections N   only the first N connections get the faults
  --segment SIZE       segment size when not slicing (default 1460)
Settings (latency, jitter, bandwidth, slicing, slow close) given later override earlier ones; stalls,
resets and limits add up (the first reset or limit reached ends the connection).
Bounds are those of fault plans and scenarios (sim/fault-limits.ts): latency and jitter at most 10s.

Bounds and output:
  --buffer SIZE        per-direction buffer before reading pauses (default ${DEFAULT_PROXY_BUFFER_BYTES / 1024} KiB)
  --max-connections N  connections open at once (default ${DEFAULT_PROXY_MAX_CONNECTIONS})
  --connect-timeout DUR  upstream dial timeout (default ${DEFAULT_PROXY_CONNECT_TIMEOUT_US / 1_000_000}s)
  --log FILE           write every decision as a JSON line
  --log-limit N        at most N lines to --log FILE (default ${DEFAULT_LOG_FILE_LIMIT})
  --json               print a JSON summary on exit (per-connection lines then go to stderr)

Exit codes: 0 after SIGINT/SIGTERM, 2 for a usage error or an address in use.`;

function durationFlag(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const us = parseDurationUs(value);
  if (us === undefined)
    throw new UsageError(`--${name} must be a duration such as 20ms or 1.5s, got '${value}'`);
  return us;
}

function sizeFlag(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const bytes = parseSizeBytes(value);
  if (bytes === undefined)
    throw new UsageError(`--${name} must be a size such as 4096, 64KiB or 1MB, got '${value}'`);
  return bytes;
}

/**
 * Compiles one flag's piece of the plan on its own, so that a value the plan parser refuses is
 * reported under the flag that gave it: "--latency must be <= 10000000 (MAX_LATENCY_US, 10s), got
 * 20000000". `flags` maps a field of the piece (its path under the step, or under `proxy`) to its flag.
 */
function checkPiece(
  piece: { faults?: unknown[]; proxy?: ProxySettings },
  flags: Record<string, string>,
): void {
  try {
    compileProxyFaults({
      version: 1,
      faults: piece.faults ?? [],
      ...(piece.proxy ? { proxy: piece.proxy } : {}),
    });
  } catch (e) {
    if (!(e instanceof SimError)) throw e;
    const first = Object.values(flags)[0]!;
    const lines = errorDetail(e)
      .split('; ')
      .map((line) => {
        const m = /^(?:faults\[0\]\.(?:set\.)?|proxy\.)?([^:]*): (.*)$/.exec(line);
        if (m === null) return `--${first}: ${line}`;
        const flag = flags[m[1]!];
        return flag !== undefined ? `--${flag} ${m[2]!}` : `--${first}: ${m[1]!}: ${m[2]!}`;
      });
    throw new UsageError(lines.join('; '));
  }
}

/** A --timeline file as a plan: a fault plan, or the former description format rewritten as one. */
function planFromFile(file: string): FaultPlan {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new UsageError(`cannot read --timeline ${file}: ${(e as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new UsageError(`--timeline ${file}: malformed JSON (${(e as Error).message})`);
  }
  const isPlan = typeof json === 'object' && json !== null && !Array.isArray(json) && 'faults' in json;
  try {
    const plan = isPlan ? parseFaultPlan(json) : planFromProxyDescription(json, file);
    // What only the compiler refuses (a crash, a loss rate...), named as the file wrote it.
    compileProxyFaults(plan);
    return plan;
  } catch (e) {
    if (!(e instanceof SimError)) throw e;
    throw new UsageError(`--timeline ${isPlan ? `${file}: ` : ''}${errorDetail(e)}`);
  }
}

type Values = Record<string, string | boolean | undefined>;

/**
 * The fault plan the flags describe: the profile's steps, then the --timeline file's, then a step
 * per fault flag (for --direction), each piece validated on its own so an error names its source.
 */
export function planFromFlags(values: Values): FaultPlan {
  const str = (k: string): string | undefined => (typeof values[k] === 'string' ? values[k] : undefined);
  /** Raw plan steps: parseFaultPlan validates and normalizes them all at the end. */
  const faults: unknown[] = [];
  let proxy: ProxySettings = {};
  const add = (plan: FaultPlan): void => {
    faults.push(...plan.faults);
    proxy = { ...proxy, ...plan.proxy };
  };
  const profile = str('profile');
  if (profile !== undefined) {
    try {
      add(proxyProfilePlan(profile));
    } catch (e) {
      throw new UsageError(`--profile: ${errorDetail(e)}`);
    }
  }
  const timeline = str('timeline');
  if (timeline !== undefined) add(planFromFile(timeline));

  const direction = str('direction') ?? 'both';
  if (direction !== 'up' && direction !== 'down' && direction !== 'both') {
    throw new UsageError(`--direction must be up, down or both, got '${direction}'`);
  }
  // up: the client-to-server stream (the server side reads it); down: back.
  const side: ReadSide = direction === 'up' ? 'server' : direction === 'down' ? 'client' : 'both';
  const link =
    direction === 'down'
      ? { from: PROXY_SERVER_HOST, to: PROXY_CLIENT_HOST, oneWay: true }
      : { from: PROXY_CLIENT_HOST, to: PROXY_SERVER_HOST, oneWay: direction === 'up' };
  const own: Record<string, unknown>[] = [];
  const step = (s: Record<string, unknown>, flags: Record<string, string>): void => {
    checkPiece({ faults: [s] }, flags);
    own.push(s);
  };

  // The segment settings: one link step, each value checked under its own flag first.
  const set: Record<string, unknown> = {};
  const setting = (flag: string, field: string, value: unknown): void => {
    checkPiece(
      { faults: [{ kind: 'link', atUs: 0, ...link, set: { [field]: value } }] },
      { [field]: flag, 'slice.delay': 'slice-delay' },
    );
    set[field] = value;
  };
  const latency = str('latency');
  if (latency !== undefined) setting('latency', 'latency', latency);
  const jitter = str('jitter');
  if (jitter !== undefined) setting('jitter', 'jitter', jitter);
  const bandwidth = str('bandwidth');
  if (bandwidth !== undefined) setting('bandwidth', 'bandwidth', bandwidth);
  const slice = str('slice');
  const sliceDelay = str('slice-delay');
  if (slice !== undefined) {
    const m = /^\s*(\d+)\s*(?:-\s*(\d+)\s*)?$/.exec(slice);
    if (m === null)
      throw new UsageError(`--slice must be MIN-MAX bytes (e.g. 1-64) or one size, got '${slice}'`);
    const minBytes = Number(m[1]);
    const maxBytes = m[2] === undefined ? minBytes : Number(m[2]);
    setting('slice', 'slice', {
      minBytes,
      maxBytes,
      ...(sliceDelay === undefined ? {} : { delay: sliceDelay }),
    });
  } else if (sliceDelay !== undefined) {
    throw new UsageError('--slice-delay needs --slice');
  }
  if (Object.keys(set).length > 0) own.push({ kind: 'link', atUs: 0, ...link, set });

  const stallAt = sizeFlag('stall-at', str('stall-at'));
  const stallFor = str('stall-for');
  if ((stallAt === undefined) !== (stallFor === undefined)) {
    throw new UsageError('--stall-at and --stall-for go together');
  }
  if (stallAt !== undefined)
    step(
      { kind: 'stall-reads', atByte: stallAt, conn: 'all', side, for: stallFor },
      {
        atByte: 'stall-at',
        for: 'stall-for',
      },
    );
  const resetAt = sizeFlag('reset-at', str('reset-at'));
  if (resetAt !== undefined)
    step({ kind: 'reset', atUs: 0, atByte: resetAt, conn: 'all', side }, { atByte: 'reset-at' });
  const slowClose = str('slow-close');
  if (slowClose !== undefined)
    step(
      { kind: 'slow-close', atUs: 0, conn: 'all', side, for: slowClose },
      {
        for: 'slow-close',
      },
    );
  const limit = sizeFlag('limit', str('limit'));
  if (limit !== undefined)
    step({ kind: 'limit', atUs: 0, atByte: limit, conn: 'all', side }, { atByte: 'limit' });

  const toxicity = str('toxicity');
  if (toxicity !== undefined) {
    const p = Number(toxicity);
    if (toxicity.trim() === '' || Number.isNaN(p))
      throw new UsageError(`--toxicity must be a number in [0, 1], got '${toxicity}'`);
    checkPiece({ proxy: { toxicity: p } }, { toxicity: 'toxicity' });
    proxy.toxicity = p;
  }
  const faulty = str('faulty-connections');
  if (faulty !== undefined) proxy.faultyConnections = intFlag('faulty-connections', faulty, 0, 0);
  const segment = sizeFlag('segment', str('segment'));
  if (segment !== undefined) {
    checkPiece({ proxy: { segmentBytes: segment } }, { segmentBytes: 'segment' });
    proxy.segmentBytes = segment;
  }
  faults.push(...own);
  try {
    return parseFaultPlan({ version: 1, faults, ...(Object.keys(proxy).length > 0 ? { proxy } : {}) });
  } catch (e) {
    throw new UsageError(errorDetail(e));
  }
}

/** The faults the flags describe (profile, then timeline file, then fault flags), compiled. */
export function faultsFromFlags(values: Values): ProxyFaults {
  const plan = planFromFlags(values);
  try {
    return compileProxyFaults(plan);
  } catch (e) {
    if (e instanceof SimError) throw new UsageError(errorDetail(e));
    throw e;
  }
}

function describeRecord(r: Readonly<ProxyConnectionRecord>): string {
  if (r.state !== 'closed') return `conn ${r.index} open from ${r.client}${r.faulty ? '' : ' (no faults)'}`;
  const dir = (name: string, c: ProxyConnectionRecord['up']): string =>
    `${name} ${c.forwarded}/${c.read} B${c.discarded > 0 ? ` (${c.discarded} dropped)` : ''}`;
  const detail = r.detail === '' ? '' : `: ${r.detail}`;
  return `conn ${r.index} closed (${r.outcome ?? '?'}${detail}); ${dir('up', r.up)}, ${dir('down', r.down)}`;
}

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

export const proxyCommand: Command = {
  name: 'proxy',
  summary: 'a TCP/ipc proxy with seeded, replayable faults (latency, slicing, stalls, resets...)',
  usage: USAGE,
  async run(argv) {
    const { values } = parseFlags(argv, {
      listen: { type: 'string' },
      upstream: { type: 'string' },
      seed: { type: 'string' },
      profile: { type: 'string' },
      timeline: { type: 'string' },
      direction: { type: 'string' },
      latency: { type: 'string' },
      jitter: { type: 'string' },
      bandwidth: { type: 'string' },
      slice: { type: 'string' },
      'slice-delay': { type: 'string' },
      'stall-at': { type: 'string' },
      'stall-for': { type: 'string' },
      'reset-at': { type: 'string' },
      'slow-close': { type: 'string' },
      limit: { type: 'string' },
      toxicity: { type: 'string' },
      'faulty-connections': { type: 'string' },
      segment: { type: 'string' },
      buffer: { type: 'string' },
      'max-connections': { type: 'string' },
      'connect-timeout': { type: 'string' },
      log: { type: 'string' },
      'log-limit': { type: 'string' },
      json: { type: 'boolean' },
    });
    if (values.listen === undefined) throw new UsageError('--listen ADDR is required');
    if (values.upstream === undefined) throw new UsageError('--upstream ADDR is required');
    const faults = faultsFromFlags(values);
    const seed = values.seed ?? Math.floor(Math.random() * 2 ** 48).toString(16);
    const bufferBytes = sizeFlag('buffer', values.buffer) ?? DEFAULT_PROXY_BUFFER_BYTES;
    if (bufferBytes < 1) throw new UsageError('--buffer must be at least 1 byte');
    const maxConnections = intFlag(
      'max-connections',
      values['max-connections'],
      DEFAULT_PROXY_MAX_CONNECTIONS,
      1,
    );
    const connectTimeoutUs =
      durationFlag('connect-timeout', values['connect-timeout']) ?? DEFAULT_PROXY_CONNECT_TIMEOUT_US;
    if (connectTimeoutUs < 1) throw new UsageError('--connect-timeout must be > 0');
    const logLimit = intFlag('log-limit', values['log-limit'], DEFAULT_LOG_FILE_LIMIT, 0);
    const json = values.json === true;
    const say = (line: string): void => void (json ? process.stderr : process.stdout).write(line + '\n');

    let logStream: WriteStream | undefined;
    let logWritten = 0;
    let logFailure: string | undefined;
    if (values.log !== undefined) {
      logStream = createWriteStream(values.log);
      await new Promise<void>((resolve, reject) => {
        logStream!.once('open', () => resolve());
        logStream!.once('error', (e) =>
          reject(new UsageError(`cannot write --log ${values.log}: ${e.message}`)),
        );
      });
      logStream.on('error', (e) => (logFailure ??= e.message));
    }
    const onLog = (entry: ProxyLogEntry): void => {
      if (logStream === undefined || logWritten >= logLimit) return;
      logWritten++;
      logStream.write(JSON.stringify(entry) + '\n');
    };

    let proxy: FaultProxy;
    try {
      proxy = await startFaultProxy({
        listen: values.listen,
        upstream: values.upstream,
        seed,
        faults,
        onLog,
        onConnection: (r) => say(describeRecord(r)),
        bufferBytes,
        maxConnections,
        connectTimeoutUs,
        // Decisions go to --log FILE as they happen; none are kept in memory.
        logLimit: 0,
      });
    } catch (e) {
      logStream?.destroy();
      if (e instanceof NetError && e.code === 'EADDRINUSE') {
        process.stderr.write(`netlab proxy: cannot listen on ${values.listen}: address in use\n`);
        return EXIT_USAGE;
      }
      if (e instanceof NetError || e instanceof SimError) throw new UsageError(e.message);
      throw e;
    }
    say(`netlab proxy  ${proxy.address} -> ${proxy.upstream}  seed=${proxy.seed}`);
    say(`  faults: ${describeProxyFaults(proxy.faults)}`);
    const signal = await waitForSignal();
    await proxy.close();
    if (logStream !== undefined) {
      const stream = logStream;
      await new Promise<void>((resolve) => stream.end(() => resolve()));
    }
    say(`netlab proxy: ${signal}: closed after ${proxy.accepted} connection(s)`);
    if (logFailure !== undefined) process.stderr.write(`netlab proxy: writing --log failed: ${logFailure}\n`);
    if (json) {
      printJson({
        address: proxy.address,
        upstream: proxy.upstream,
        seed: proxy.seed,
        faults: proxy.faults,
        accepted: proxy.accepted,
        connections: proxy.connections,
        logFile: values.log ?? null,
        decisions: proxy.logDropped,
        logWritten,
      });
    }
    return EXIT_OK;
  },
};
