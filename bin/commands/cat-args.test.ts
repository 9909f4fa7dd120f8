/** Checks cat-args against nngcat 1.5.2's parsing: pinned messages always, real nngcat when installed. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freeTcpPort, gatePeers, runPeer, stopAllPeers } from '../../scenarios/interop/harness.js';
import {
  CatFileError,
  NNGCAT_EXIT_FAILURE,
  NNGCAT_HELP,
  parseCatArgs,
  type CatArgs,
  type CatArgsIo,
  type CatParse,
} from './cat-args.js';

const dir = mkdtempSync(join(tmpdir(), 'netlab-cat-args-'));
/** A readable file with binary content. */
const FILE = join(dir, 'data.bin');
const FILE_BYTES = Uint8Array.from([0, 1, 2, 0xff, 0x0a]);
const MISSING = join(dir, 'missing');
/** A path no ipc listener will ever use: dialling it is refused at once. */
const IPC_NOWHERE = join(dir, 'nowhere.ipc');
writeFileSync(FILE, FILE_BYTES);

afterAll(async () => {
  await stopAllPeers();
  rmSync(dir, { recursive: true, force: true });
});

const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);

function run(argv: string[], io?: CatArgsIo): CatArgs {
  const parsed = parseCatArgs(argv, io);
  if (parsed.kind !== 'run') throw new Error(`expected run, got ${JSON.stringify(parsed)}`);
  return parsed.args;
}

function errorOf(argv: string[]): string {
  const parsed = parseCatArgs(argv);
  if (parsed.kind !== 'error') throw new Error(`expected an error for ${argv.join(' ')}, got ${parsed.kind}`);
  expect(parsed.exitCode).toBe(NNGCAT_EXIT_FAILURE);
  return parsed.message;
}

/**
 * Usage errors with nngcat's exact stderr line (exit 1 for all), observed with nngcat 1.5.2. `dial`
 * is a closed loopback address, in case a case unexpectedly parses and nngcat dials it.
 */
function usageErrors(dial: string): [string[], string][] {
  const D = ['--dial', dial];
  return [
    [[], 'No address specified.'],
    [['--req0'], 'No address specified.'],
    [['--req0', 'foo', ...D], 'No address specified.'], // parsing stops at "foo"
    [['--req0', '-', ...D], 'No address specified.'], // and after a lone "-"
    [D, 'No protocol specified.'],
    [['--pair', ...D, '--data', 'x'], 'No protocol specified.'], // nngcat 1.5.2 ignores its --pair
    [['--compat', '--pair', ...D], 'No protocol specified.'],
    [['--bogus'], 'Option --bogus is invalid.'],
    [['--req0', ...D, '--req00'], 'Option --req00 is invalid.'],
    [[...D, '--pair2'], 'Option --pair2 is invalid.'],
    [['---x'], 'Option ---x is invalid.'],
    [['-z'], 'Option -z is invalid.'],
    [['-é'], 'Option -é is invalid.'],
    [['--é'], 'Option --é is invalid.'],
    [['-vq'], 'Option -vq is invalid.'],
    [['--verbose=1'], 'Option --verbose=1 is invalid.'],
    [['--re', ...D], 'Option --re is ambiguous (specify in full).'],
    [['--pu', ...D], 'Option --pu is ambiguous (specify in full).'],
    [['--s', ...D], 'Option --s is ambiguous (specify in full).'],
    [['--pai', ...D], 'Option --pai is ambiguous (specify in full).'],
    [['--c', '1'], 'Option --c is ambiguous (specify in full).'],
    [['--co', '1'], 'Option --co is ambiguous (specify in full).'],
    [['--f=x'], 'Option --f=x is ambiguous (specify in full).'],
    [['--', ...D], 'Option -- is ambiguous (specify in full).'],
    [['--=x'], 'Option --=x is ambiguous (specify in full).'],
    [['--req0', '--dial'], 'Option --dial requires argument.'],
    [['--req0', ...D, '-D'], 'Option -D requires argument.'],
    [['--listen'], 'Option --listen requires argument.'],
    [['--req0', '--rep0', ...D], 'Only one protocol may be specified.'],
    [['--pair0', '--pair1'], 'Only one protocol may be specified.'],
    [['--sub', '--sub0'], 'Only one protocol may be specified.'],
    [['--req0', '--req0', '--help'], 'Only one protocol may be specified.'],
    [['--quoted', '--hex'], 'Format may be specified only once.'],
    [['--format=quoted', '--raw'], 'Format may be specified only once.'],
    [['--format', 'no', '--format', 'no'], 'Format may be specified only once.'],
    [['--format', 'bogus'], 'Invalid format specified.'],
    [['--format='], 'Invalid format specified.'],
    [['--format', 'QUOTED'], 'Invalid format specified.'],
    [['--data', 'x', '--data', 'y'], 'Data (--file, --data) may be specified only once.'],
    [['--data', 'x', '--file', FILE], 'Data (--file, --data) may be specified only once.'],
    [['--file', FILE, '-Dx'], 'Data (--file, --data) may be specified only once.'],
    [['--file', MISSING], `Cannot open file ${MISSING}: No such file or directory`],
    [['-F' + MISSING, '--bogus'], `Cannot open file ${MISSING}: No such file or directory`],
    [['--bogus', '--file', MISSING], 'Option --bogus is invalid.'],
    [['--cacert', MISSING], `Cannot open file ${MISSING}: No such file or directory`],
    [['--key', MISSING], `Cannot open file ${MISSING}: No such file or directory`],
    [['-E', MISSING], `Cannot open file ${MISSING}: No such file or directory`],
    [['--file', dir], `Read from ${dir} failed: Is a directory`],
    [['--cacert', FILE, '--cacert', FILE], 'CA Certificate (--cacert) may be specified only once.'],
    [['--key', FILE, '--key', FILE], 'Key (--key) may be specified only once.'],
    [['--cert', FILE, '--cert', FILE], 'Cert (--cert) may be specified only once.'],
    [['--count', 'xyz'], 'Integer argument expected.'],
    [['--count', '-1'], 'Integer argument expected.'],
    [['--count', 'x', '--bogus'], 'Integer argument expected.'],
    [['--delay', '0.5'], 'Integer argument expected.'],
    [['--interval', '1.5'], 'Integer argument expected.'],
    [['--recv-timeout', '1e3'], 'Integer argument expected.'],
    [['--send-timeout', '+1'], 'Integer argument expected.'],
    [['--count', ' 1'], 'Integer argument expected.'],
    [['-l', '0x10'], 'Integer argument expected.'],
    [['--recv-timeout', '٣'], 'Integer argument expected.'],
    [['--count', ''], 'Empty integer argument.'],
    [['--count='], 'Empty integer argument.'],
    [['-l', ''], 'Empty integer argument.'],
    [['--delay', '86401'], 'Integer argument too large.'],
    [['-i', '99999'], 'Integer argument too large.'],
    [['-l', '65537'], 'Integer argument too large.'],
    [['--count', '2147483648'], 'Integer argument overflow.'],
    [['--count', '4294967295'], 'Integer argument overflow.'],
    [['--count', '21474836470'], 'Integer argument overflow.'],
    [['--count', '12345678901'], 'Integer argument overflow.'],
    [['-Z', '2147483648'], 'Integer argument overflow.'],
    [['--compat', '--async', '--pair0', ...D], 'Options --async and --compat are incompatible.'],
    [['--compat', '--pair1', ...D, '--async'], 'Options --async and --compat are incompatible.'],
    [['--compat', '--count', '1', '--pair0', ...D], 'Options --count and --compat are incompatible.'],
    [['--compat', '--pair1', ...D], 'Protocol does not support --compat.'],
    [['--req0', ...D, '--data', 'x', '--subscribe', 'a'], 'Protocol does not support --subscribe.'],
    [[...D, '--data', 'x', '--subscribe', 'a'], 'Protocol does not support --subscribe.'],
    [['--pull0', ...D, '--data', 'x'], 'Protocol does not support --file or --data.'],
    [['--sub0', ...D, '--file', FILE, '-i', '1'], 'Protocol does not support --file or --data.'],
    [['--sub0', ...D, '-i', '1'], 'Protocol does not support --interval.'],
    [['--pull0', ...D, '-i', '0'], 'Protocol does not support --interval.'],
    [['--rep0', ...D, '-i', '1'], 'Protocol does not support --interval.'],
    [['--respondent0', ...D, '-i', '1', '--data', 'x'], 'Protocol does not support --interval.'],
    [['--pub0', ...D, '--data', 'x', '--quoted'], 'Protocol does not support --format options.'],
    [['--push0', ...D, '--data', 'x', '--format', 'no'], 'Protocol does not support --format options.'],
    [['--pub0', ...D, '--interval', '1', '--hex'], 'Protocol does not support --format options.'],
    [['--push0', ...D], 'Protocol requires either --file or --data.'],
    [['--pub0', ...D, '--interval', '1'], 'Protocol requires either --file or --data.'],
    [['--req0', ...D], 'Protocol requires either --file or --data.'],
    [['--surveyor0', ...D], 'Protocol requires either --file or --data.'],
    [['--pair1', ...D, '-i', '1'], 'Option --interval requires either --file or --data.'],
    [['--pair0', ...D, '-i', '1'], 'Option --interval requires either --file or --data.'],
    [['--bus0', ...D, '-i', '1'], 'Option --interval requires either --file or --data.'],
  ];
}

/**
 * Command lines nngcat accepts; it then dials `dial` (closed) and fails with "Unable to dial on
 * URL: Connection refused". `stdin` feeds `--file -`.
 */
function acceptedLines(dial: string, port: number): { argv: string[]; stdin?: string }[] {
  const D = ['--dial', dial];
  return [
    { argv: ['--req', ...D, '--data', 'x'] },
    { argv: ['--rep', ...D] },
    { argv: ['--pub', ...D, '--data', 'x'] },
    { argv: ['--push', ...D, '--data', 'x'] },
    { argv: ['--pull', ...D] },
    { argv: ['--surveyor', ...D, '--data', 'x'] },
    { argv: ['--sur', ...D, '--data', 'x'] },
    { argv: ['--respondent', ...D] },
    { argv: ['--res', ...D] },
    { argv: ['--bus', ...D] },
    { argv: ['--bus0', ...D, '--data', 'x', '--interval', '1'] },
    { argv: ['--sub', ...D] },
    { argv: ['--sub', ...D, '--subscribe='] },
    { argv: ['--pair1', ...D] },
    { argv: ['--pair0', '--pair', ...D, '--data', 'x'] },
    { argv: ['--req0', `--dial=${dial}`, '--data='] },
    { argv: ['--req0', `--dial:${dial}`, '--data:x'] },
    { argv: ['--req0', '--connect', dial, '-Dx', '-C5', '-i0'] },
    { argv: ['--req0', `-l${port}`, '-D=x', '-Z0'] },
    { argv: ['--req0', `--connect-local=${port}`, '--data', 'x', '-Z', '1024'] },
    { argv: ['--req0', '-x', IPC_NOWHERE, '--data', 'x'] },
    { argv: ['--req0', '--connect-ipc', IPC_NOWHERE, '--data', 'x'] },
    { argv: ['--req0', ...D, '--data', 'x', '--count', '4294967296'] },
    { argv: ['--req0', ...D, '--data', 'x', '--count', '9999999999'] },
    { argv: ['--req0', ...D, '--data', 'x', '--count', '99999999999999999999'] },
    { argv: ['--req0', ...D, '--data', 'x', '--recv-timeout', '00001', '--send-timeout', '86400'] },
    { argv: ['--req0', ...D, '--data', 'x', '--sil', '--cou', '1'] },
    { argv: ['--req0', ...D, '--data', 'x', '--k', FILE, '--cacert', FILE, '-E', FILE, '-k'] },
    { argv: ['--req0', ...D, '--data', 'x', '--socket-name', 'foo', '--zt-home', '/x', '--insecure'] },
    { argv: ['--req0', ...D, '--data', 'x', 'foo', '--bogus'] },
    { argv: ['--req0', ...D, '--data', 'x', '-', '--bogus'] },
    { argv: ['--req0', ...D, '--file', '-'], stdin: 'from stdin' },
    { argv: ['--req0', ...D, '-F', FILE, '--format', 'msgpack', '-v'] },
    { argv: ['-Q', '--sub0', ...D, '--subscribe', 'a', '--subscribe', 'b', '-q', '-v', '--delay', '1'] },
  ];
}

describe('parseCatArgs: pinned nngcat usage errors', () => {
  for (const [argv, message] of usageErrors('tcp://127.0.0.1:1')) {
    it(`${JSON.stringify(argv)} → ${message}`, () => {
      expect(errorOf(argv)).toBe(message);
    });
  }
});

describe('parseCatArgs: accepted command lines', () => {
  it('parses a typical request with every field', () => {
    const args = run(['--req0', '--dial', 'tcp://127.0.0.1:5555', '--data', 'ping', '--quoted']);
    expect(args).toEqual({
      protocol: 'req0',
      addresses: [{ mode: 'dial', url: 'tcp://127.0.0.1:5555' }],
      dials: ['tcp://127.0.0.1:5555'],
      listens: [],
      data: utf8('ping'),
      count: null,
      intervalSec: null,
      delaySec: null,
      recvTimeoutSec: null,
      sendTimeoutSec: null,
      format: 'quoted',
      recvMaxBytes: null,
      async: false,
      compat: false,
      subscriptions: [],
      verbose: false,
      silent: false,
      tls: { insecure: false, caCert: null, cert: null, key: null },
      ztHome: null,
    } satisfies CatArgs);
  });

  it('resolves protocol names, aliases and unique prefixes', () => {
    const D = ['--dial', 'tcp://127.0.0.1:1', '--data', 'x'];
    const cases: [string, string][] = [
      ['--req', 'req0'],
      ['--rep', 'rep0'],
      ['--pub', 'pub0'],
      ['--push', 'push0'],
      ['--surveyor', 'surveyor0'],
      ['--sur', 'surveyor0'],
      ['--respondent', 'respondent0'],
      ['--res', 'respondent0'],
      ['--bus', 'bus0'],
      ['--pair0', 'pair0'],
      ['--pair1', 'pair1'],
    ];
    for (const [flag, protocol] of cases) expect(run([flag, ...D]).protocol).toBe(protocol);
    // Receive-only protocols refuse --data.
    expect(run(['--pull', '--dial', 'tcp://127.0.0.1:1']).protocol).toBe('pull0');
    expect(run(['--sub', '--dial', 'tcp://127.0.0.1:1']).protocol).toBe('sub0');
    // --pair is accepted but does nothing, so the earlier --pair0 stands.
    expect(run(['--pair0', '--pair', ...D]).protocol).toBe('pair0');
  });

  it('builds addresses in order: -L listens and -l dials on 127.0.0.1, -X/-x use ipc:/// + path', () => {
    const args = run([
      '--pull0',
      '-L',
      '5555',
      '-l5556',
      '--bind',
      'ws://127.0.0.1:1/x',
      '-X',
      '/tmp/s',
      '-x',
      'rel',
    ]);
    expect(args.addresses).toEqual([
      { mode: 'listen', url: 'tcp://127.0.0.1:5555' },
      { mode: 'dial', url: 'tcp://127.0.0.1:5556' },
      { mode: 'listen', url: 'ws://127.0.0.1:1/x' },
      { mode: 'listen', url: 'ipc:////tmp/s' },
      { mode: 'dial', url: 'ipc:///rel' },
    ]);
    expect(args.listens).toEqual(['tcp://127.0.0.1:5555', 'ws://127.0.0.1:1/x', 'ipc:////tmp/s']);
    expect(args.dials).toEqual(['tcp://127.0.0.1:5556', 'ipc:///rel']);
    // nngcat's bound is 65536 (it then fails to dial "Address invalid"); leading zeros are dropped.
    expect(run(['--pull0', '-l', '065536']).dials).toEqual(['tcp://127.0.0.1:65536']);
  });

  it('attaches values with =, : and -Xvalue, taking the rest of the word', () => {
    expect(run(['--req0', '--dial=tcp://h:1', '--data=']).data).toEqual(new Uint8Array(0));
    expect(run(['--req0', '--dial:tcp://h:1', '--data:a=b']).data).toEqual(utf8('a=b'));
    expect(run(['--req0', '--lis=tcp://h:1', '-D=x']).data).toEqual(utf8('=x'));
    expect(run(['--req0', '-l1', '-Dé']).data).toEqual(Uint8Array.from([0xc3, 0xa9]));
    // A value may look like an option: it is taken anyway.
    expect(run(['--pull0', '--dial', '--data']).dials).toEqual(['--data']);
  });

  it('reads integers like nngcat: whole seconds, 32-bit wraparound', () => {
    const args = run(['--pair1', '-l1', '-D', 'x', '-C', '3', '-i', '0', '-d', '2', '--recv-timeout', '0']);
    expect(args).toMatchObject({
      count: 3,
      intervalSec: 0,
      delaySec: 2,
      recvTimeoutSec: 0,
      sendTimeoutSec: null,
    });
    expect(run(['--pull0', '-l1', '--count', '4294967296']).count).toBe(0);
    expect(run(['--pull0', '-l1', '--count', '9999999999']).count).toBe(1_410_065_407);
    expect(run(['--pull0', '-l1', '--send-timeout', '86400']).sendTimeoutSec).toBe(86_400);
    expect(run(['--pull0', '-l1', '-Z', '0']).recvMaxBytes).toBe(0x7fffffff);
    expect(run(['--pull0', '-l1', '--recv-maxsz=1024']).recvMaxBytes).toBe(1024);
  });

  it('formats: flags, --format names (no → none), none by default', () => {
    const D = ['--rep0', '-l1'];
    expect(run(D).format).toBe('none');
    expect(run([...D, '--format', 'no']).format).toBe('none');
    for (const f of ['ascii', 'hex', 'msgpack', 'quoted', 'raw'] as const) {
      expect(run([...D, '--format', f]).format).toBe(f);
      expect(run([...D, `--${f}`]).format).toBe(f);
    }
    expect(run([...D, '-A']).format).toBe('ascii');
    expect(run([...D, '-Q']).format).toBe('quoted');
  });

  it('subscriptions: everything by default for sub0, else the topics in order', () => {
    expect(run(['--sub0', '-l1']).subscriptions).toEqual([new Uint8Array(0)]);
    expect(run(['--sub', '-l1', '--subscribe', 'a', '--subscribe=b']).subscriptions).toEqual([
      utf8('a'),
      utf8('b'),
    ]);
    expect(run(['--pull0', '-l1']).subscriptions).toEqual([]);
  });

  it('-v/-q: the last one wins; --compat implies async; --socket-name is ignored', () => {
    expect(run(['--pull0', '-l1', '-v', '-q'])).toMatchObject({ verbose: false, silent: true });
    expect(run(['--pull0', '-l1', '-q', '--verbose'])).toMatchObject({ verbose: true, silent: false });
    expect(run(['--pair0', '-l1', '--compat'])).toMatchObject({ compat: true, async: true });
    expect(run(['--pair0', '-l1', '--compat', '--count', '0'])).toMatchObject({ count: 0 });
    expect(run(['--pair0', '-l1', '--async', '--socket-name', 'n'])).toMatchObject({
      compat: false,
      async: true,
    });
  });

  it('loads --file and TLS files as bytes, "-" from standard input', () => {
    expect(run(['--req0', '-l1', '--file', FILE]).data).toEqual(FILE_BYTES);
    const args = run(['--req0', '-l1', '-D', 'x', '--cacert', FILE, '--cert', FILE, '--key', FILE, '-k']);
    expect(args.tls).toEqual({ insecure: true, caCert: FILE_BYTES, cert: FILE_BYTES, key: FILE_BYTES });
    const reads: string[] = [];
    const io: CatArgsIo = {
      readFile: (path) => {
        reads.push(path);
        if (path === '-') return utf8('piped');
        throw new CatFileError('open', 'Permission denied');
      },
    };
    expect(run(['--req0', '-l1', '-F-'], io).data).toEqual(utf8('piped'));
    expect(parseCatArgs(['--req0', '-l1', '--file', '/x'], io)).toEqual({
      kind: 'error',
      message: 'Cannot open file /x: Permission denied',
      exitCode: 1,
    } satisfies CatParse);
    expect(reads).toEqual(['-', '/x']);
  });

  it('--help prints nngcat usage and exits 1; --version prints 1.5.2 and exits 0', () => {
    expect(parseCatArgs(['--req0', '-h', '--bogus'])).toEqual({
      kind: 'help',
      stdout: NNGCAT_HELP,
      exitCode: 1,
    });
    expect(parseCatArgs(['--hel'])).toMatchObject({ kind: 'help' });
    // "he" is a prefix of both help and hex.
    expect(parseCatArgs(['--he'])).toMatchObject({
      kind: 'error',
      message: 'Option --he is ambiguous (specify in full).',
    });
    expect(parseCatArgs(['--vers'])).toEqual({ kind: 'version', stdout: '1.5.2\n', exitCode: 0 });
    expect(parseCatArgs(['--req0', '-V', '--bogus'])).toMatchObject({ kind: 'version' });
  });
});

describe('parseCatArgs against real nngcat', () => {
  let closedPort = 0;
  beforeAll(async () => {
    closedPort = await freeTcpPort();
  });

  /** Runs nngcat with a bounded lifetime; every case here exits within milliseconds. */
  const nngcat = (argv: string[], stdin?: string) =>
    runPeer({ command: 'nngcat', args: argv, timeoutMs: 5000, ...(stdin === undefined ? {} : { stdin }) });

  it('every usage error: same stderr line and exit code as nngcat', async (ctx) => {
    gatePeers(ctx, ['nngcat']);
    const cases = usageErrors(`tcp://127.0.0.1:${closedPort}`);
    const results = await Promise.all(cases.map(([argv]) => nngcat(argv)));
    cases.forEach(([argv, message], i) => {
      const theirs = results[i]!;
      const ours = parseCatArgs(argv);
      const label = JSON.stringify(argv);
      expect(ours.kind, label).toBe('error');
      if (ours.kind !== 'error') return;
      expect(ours.exitCode, label).toBe(theirs.code);
      expect(ours.message, label).toBe(theirs.stderr.replace(/\n$/, ''));
      expect(message, label).toBe(ours.message);
    });
  });

  it('every accepted line: nngcat gets as far as dialling the same first URL', async (ctx) => {
    gatePeers(ctx, ['nngcat']);
    const lines = acceptedLines(`tcp://127.0.0.1:${closedPort}`, closedPort);
    const results = await Promise.all(lines.map(({ argv, stdin }) => nngcat(argv, stdin)));
    lines.forEach(({ argv, stdin }, i) => {
      const theirs = results[i]!;
      const label = JSON.stringify(argv);
      const dialled = /^Unable to dial on (.*): /.exec(theirs.stderr)?.[1];
      expect(dialled, `${label}: ${theirs.stderr}`).toBeDefined();
      const ours = run(argv, {
        readFile: (path) => (path === '-' ? utf8(stdin ?? '') : new Uint8Array(Buffer.from(FILE_BYTES))),
      });
      expect(ours.dials[0], label).toBe(dialled);
    });
  });

  it('--help and --version: same stdout and exit code as nngcat', async (ctx) => {
    gatePeers(ctx, ['nngcat']);
    for (const argv of [['--help'], ['-h'], ['--version'], ['-V']]) {
      const theirs = await nngcat(argv);
      const ours = parseCatArgs(argv);
      if (ours.kind !== 'help' && ours.kind !== 'version') throw new Error(`no help/version for ${argv[0]}`);
      expect(ours.exitCode).toBe(theirs.code);
      expect(ours.stdout).toBe(Buffer.from(theirs.stdout).toString('utf8'));
    }
  });
});
