/**
 * `netlab proxy`: the seeded fault proxy (impl/runtime/node-proxy.ts) as a command. It forwards
 * connections from --listen to --upstream with the faults the flags, a profile and a timeline file
 * describe, prints a line per connection and runs until SIGINT or SIGTERM.
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
import {
  describeProxyFaults,
  parseProxyFaults,
  parseRateBytesPerSec,
  parseSizeBytes,
  PROXY_PROFILE_NAMES,
  proxyProfile,
  type DirectionFaults,
  type ProxyFaults,
  type ProxyLogEntry,
} from '../../impl/runtime/proxy-plan.js';
import { SimError } from '../../sim/errors.js';
import { parseDurationUs } from '../../sim/fault-plan.js';
import { EXIT_OK, EXIT_USAGE, intFlag, parseFlags, printJson, UsageError, type Command } from './common.js';

/** Log lines written to --log FILE at most (later entries are counted, not written). */
export const DEFAULT_LOG_FILE_LIMIT = 1_000_000;

const USAGE = `usage: netlab proxy --listen ADDR --upstream ADDR [--seed S] [--profile NAME] [--timeline FILE]
                    [--direction up|down|both] [fault flags] [--log FILE] [--json]

A TCP (or unix-socket) proxy that applies seeded faults to each connection: every decision is a
function of (seed, connection index, direction, byte offset), so the same bytes meet the same fate
however the kernel chunks them. Runs until SIGINT or SIGTERM; prints a line per connection.
Details: impl/runtime/PROXY.md.

  --listen ADDR        where clients connect: 127.0.0.1:PORT, tcp://HOST:PORT (port 0: any free
                       port; the bound address is printed) or ipc:///PATH
  --upstream ADDR      where the proxy dials for each client, same syntax
  --seed S             root seed of every decision (default: random, printed)
  --profile NAME       start from a named fault set: ${PROXY_PROFILE_NAMES.join(', ')} (default none)
  --timeline FILE      JSON: an array of timeline steps, or a whole fault description
                       {up, down, timeline, toxicity, faultyConnections, segmentBytes}; applied over
                       the profile (the flags below apply over both)

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

/** Merges b over a: per direction field by field, timelines appended, other fields replaced. */
function mergeFaults(a: ProxyFaults, b: ProxyFaults): ProxyFaults {
  const out: ProxyFaults = { ...a, ...b };
  for (const dir of ['up', 'down'] as const) {
    if (a[dir] !== undefined || b[dir] !== undefined) out[dir] = { ...a[dir], ...b[dir] };
  }
  if (a.timeline !== undefined || b.timeline !== undefined)
    out.timeline = [...(a.timeline ?? []), ...(b.timeline ?? [])];
  return out;
}

type Values = Record<string, string | boolean | undefined>;

/** The faults the flags describe (profile, then timeline file, then fault flags), validated. */
export function faultsFromFlags(values: Values): ProxyFaults {
  const str = (k: string): string | undefined => (typeof values[k] === 'string' ? values[k] : undefined);
  let faults: ProxyFaults = {};
  const profile = str('profile');
  if (profile !== undefined) {
    try {
      faults = proxyProfile(profile);
    } catch (e) {
      throw new UsageError(`--profile: ${(e as Error).message.replace(/^ERR_BAD_ARGUMENT: /, '')}`);
    }
  }
  const timeline = str('timeline');
  if (timeline !== undefined) {
    let text: string;
    try {
      text = readFileSync(timeline, 'utf8');
    } catch (e) {
      throw new UsageError(`cannot read --timeline ${timeline}: ${(e as Error).message}`);
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (e) {
      throw new UsageError(`--timeline ${timeline}: malformed JSON (${(e as Error).message})`);
    }
    try {
      const fromFile = parseProxyFaults(
        Array.isArray(json) ? { timeline: json as unknown[] } : json,
        timeline,
      );
      faults = mergeFaults(faults, fromFile);
    } catch (e) {
      throw new UsageError(`--timeline ${(e as Error).message.replace(/^ERR_BAD_ARGUMENT: /, '')}`);
    }
  }
  const direction = str('direction') ?? 'both';
  if (direction !== 'up' && direction !== 'down' && direction !== 'both') {
    throw new UsageError(`--direction must be up, down or both, got '${direction}'`);
  }
  const d: DirectionFaults = {};
  const latencyUs = durationFlag('latency', str('latency'));
  if (latencyUs !== undefined) d.latency = { kind: 'constant', us: latencyUs };
  const jitterUs = durationFlag('jitter', str('jitter'));
  if (jitterUs !== undefined) d.jitterUs = jitterUs;
  const bandwidth = str('bandwidth');
  if (bandwidth !== undefined) {
    const rate = parseRateBytesPerSec(bandwidth);
    if (rate === undefined)
      throw new UsageError(`--bandwidth must be a rate such as 1MB/s, got '${bandwidth}'`);
    d.bandwidthBytesPerSec = rate;
  }
  const slice = str('slice');
  const sliceDelayUs = durationFlag('slice-delay', str('slice-delay'));
  if (slice !== undefined) {
    const m = /^\s*(\d+)\s*(?:-\s*(\d+)\s*)?$/.exec(slice);
    if (m === null)
      throw new UsageError(`--slice must be MIN-MAX bytes (e.g. 1-64) or one size, got '${slice}'`);
    const minBytes = Number(m[1]);
    const maxBytes = m[2] === undefined ? minBytes : Number(m[2]);
    if (minBytes < 1 || maxBytes < minBytes) {
      throw new UsageError(`--slice needs 1 <= MIN <= MAX, got '${slice}'`);
    }
    d.slice = { minBytes, maxBytes, delayUs: sliceDelayUs ?? 0 };
  } else if (sliceDelayUs !== undefined) {
    throw new UsageError('--slice-delay needs --slice');
  }
  const stallAt = sizeFlag('stall-at', str('stall-at'));
  const stallFor = durationFlag('stall-for', str('stall-for'));
  if ((stallAt === undefined) !== (stallFor === undefined)) {
    throw new UsageError('--stall-at and --stall-for go together');
  }
  if (stallAt !== undefined) d.stalls = [{ atByte: stallAt, forUs: stallFor! }];
  const resetAt = sizeFlag('reset-at', str('reset-at'));
  if (resetAt !== undefined) d.resetAtByte = resetAt;
  const slowCloseUs = durationFlag('slow-close', str('slow-close'));
  if (slowCloseUs !== undefined) d.slowCloseUs = slowCloseUs;
  const limit = sizeFlag('limit', str('limit'));
  if (limit !== undefined) d.limitBytes = limit;
  const fromFlags: ProxyFaults = {};
  if (Object.keys(d).length > 0) {
    if (direction !== 'down') fromFlags.up = d;
    if (direction !== 'up') fromFlags.down = d;
  }
  const toxicity = str('toxicity');
  if (toxicity !== undefined) {
    const p = Number(toxicity);
    if (toxicity.trim() === '' || !(p >= 0 && p <= 1)) {
      throw new UsageError(`--toxicity must be a number in [0, 1], got '${toxicity}'`);
    }
    fromFlags.toxicity = p;
  }
  const faulty = str('faulty-connections');
  if (faulty !== undefined) fromFlags.faultyConnections = intFlag('faulty-connections', faulty, 0, 0);
  const segment = sizeFlag('segment', str('segment'));
  if (segment !== undefined) fromFlags.segmentBytes = segment;
  try {
    return parseProxyFaults(mergeFaults(faults, fromFlags));
  } catch (e) {
    if (e instanceof SimError) throw new UsageError(e.message.replace(/^ERR_BAD_ARGUMENT: /, ''));
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
