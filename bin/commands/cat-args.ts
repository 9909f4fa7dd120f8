/**
 * Parses a `netlab cat` command line exactly as nngcat 1.5.2 parses its own (src/tools/nngcat/nngcat.c
 * plus nng_opts_parse in src/supplemental/util/options.c), so scripts written for nngcat get the same
 * options, the same error messages and the same exit codes.
 *
 * How nngcat parses (and therefore how this module parses):
 * - Long options may be abbreviated to any unique prefix (`--lis`, `--req`, `--pub`, `--surv`); an
 *   exact name always wins (`--sub` is its own entry, otherwise it would clash with `--subscribe`).
 *   `--name=value` and `--name:value` both attach a value; `-Xvalue` attaches one to a short option
 *   (`-D=x` sends "=x"). Short options cannot be clustered (`-vq` is invalid), and a value-less
 *   option with an attached value is invalid (`--verbose=1`).
 * - The protocol aliases of `--help` (`--req`, `--rep`, `--pub`, `--push`, `--pull`, `--surveyor`,
 *   `--respondent`, `--bus`) are just unique prefixes. `--pair` is an entry of its own that nngcat
 *   1.5.2 never acts on (its switch has no case for it), so `--pair` alone ends in "No protocol
 *   specified." although the help calls it an alias; we mirror that bug.
 * - Parsing stops silently at the first word that does not start with '-' and after a lone '-';
 *   the rest of the command line is ignored. `--` is not an end marker: as an empty prefix of every
 *   option it is "ambiguous".
 * - Errors found while scanning (duplicate protocol/format/data, bad integers, unreadable files)
 *   abort at once in command-line order; then come, in this order: the option error that stopped
 *   the scan, "No address specified.", the --compat checks, --subscribe, the per-protocol checks,
 *   and finally "No protocol specified.". Every error is one line on stderr and exit status 1.
 * - `--help`/`-h` prints the usage on stdout and exits 1; `--version`/`-V` prints the libnng
 *   version ("1.5.2") and exits 0. Both act as soon as the scan reaches them.
 * - Times are whole seconds (digits only, at most 86400: "0.5", "1e3", "+1", " 1" are "Integer
 *   argument expected."). Integers are accumulated in a 32-bit int that silently wraps, and only a
 *   negative final value is "Integer argument overflow.": `--count 4294967296` is accepted as 0 and
 *   `--count 9999999999` as 1410065407, while 2147483648 and 4294967295 overflow. We mirror it.
 * - `-L PORT` (`--bind-local`) listens and `-l PORT` (`--connect-local`) dials tcp://127.0.0.1:PORT
 *   (PORT up to 65536); `-X PATH` / `-x PATH` listen/dial "ipc:///" + PATH (so "-x /tmp/s" is
 *   ipc:////tmp/s).
 *
 * Cases checked against real nngcat 1.5.2 (Debian nng-utils 1.5.2-2); all exit 1 unless noted.
 * cat-args.test.ts re-runs each of them against nngcat when it is installed.
 *
 *   invocation (D = --dial tcp://127.0.0.1:1)      nngcat's stderr
 *   (no arguments)                                  No address specified.
 *   --req0                                          No address specified.
 *   D                                               No protocol specified.
 *   --pair D --data x                               No protocol specified.   (the --pair bug)
 *   --bogus          / --req00 / --pair2 / ---x     Option --bogus is invalid.
 *   -z               / -é                           Option -z is invalid.
 *   -vq                                             Option -vq is invalid.
 *   --verbose=1                                     Option --verbose=1 is invalid.
 *   --re / --pu / --s / --pai / --c / --co / --f=x  Option --re is ambiguous (specify in full).
 *   --  / --=x                                      Option -- is ambiguous (specify in full).
 *   --req0 --dial                                   Option --dial requires argument.
 *   ... -D                                          Option -D requires argument.
 *   --req0 --rep0 D  / --pair0 --pair1              Only one protocol may be specified.
 *   --quoted --hex   / --format=quoted --raw        Format may be specified only once.
 *   --format bogus   / --format=                    Invalid format specified.
 *   --data x --data y / --data x --file F          Data (--file, --data) may be specified only once.
 *   --file /nonexistent (also --cacert/--key/--cert) Cannot open file /nonexistent: No such file or directory
 *   --file /tmp                                     Read from /tmp failed: Is a directory
 *   --cacert F --cacert F                           CA Certificate (--cacert) may be specified only once.
 *   --key F --key F                                 Key (--key) may be specified only once.
 *   --cert F --cert F                               Cert (--cert) may be specified only once.
 *   --count xyz / -1 / 0.5 / 1e3 / +1 / " 1"        Integer argument expected.
 *   --count ''  / -l ''                             Empty integer argument.
 *   --delay 86401 / -l 65537                        Integer argument too large.
 *   --count 2147483648 / 4294967295 / -Z 2147483648 Integer argument overflow.
 *   --compat --async ...                            Options --async and --compat are incompatible.
 *   --compat --count 1 --pair0 D                    Options --count and --compat are incompatible.
 *   --compat --pair1 D                              Protocol does not support --compat.
 *   --req0 D --subscribe a (any non-sub protocol)   Protocol does not support --subscribe.
 *   --pull0|--sub0 D --data x                       Protocol does not support --file or --data.
 *   --sub0|--pull0|--rep0|--respondent0 D -i 1      Protocol does not support --interval.
 *   --pub0|--push0 D --data x --quoted|--format no  Protocol does not support --format options.
 *   --pub0|--push0|--req0|--surveyor0 D             Protocol requires either --file or --data.
 *   --pair0|--pair1|--bus0 D -i 1                   Option --interval requires either --file or --data.
 *   --help / -h (anywhere before an error)          (usage on stdout, nothing on stderr)
 *   --version / -V / --vers                         (exit 0, "1.5.2" on stdout)
 *
 * Accepted (nngcat went on to dial and failed with "Unable to dial on …: Connection refused"):
 * --req/--rep/--pub/--push/--pull/--surveyor/--respondent/--bus/--sub/--sur/--res, --pair0 --pair,
 * --dial=URL, --dial:URL, --data=, -Dx, -D=x, -C5, -i0, -l1, --connect-local=1, -Z0, --count
 * 4294967296, --count 9999999999, --recv-timeout 00001, --sil, --cou, --k FILE (= --key),
 * --socket-name X (ignored), --zt-home X, --insecure/-k, --sub --subscribe= and a trailing
 * "foo --bogus" or "-" (ignored). Runtime errors after parsing (dial/listen failures, send/receive
 * errors) are the command's business, not this module's.
 */
import { closeSync, openSync, readSync } from 'node:fs';

export type CatProtocol =
  | 'req0'
  | 'rep0'
  | 'pub0'
  | 'sub0'
  | 'push0'
  | 'pull0'
  | 'surveyor0'
  | 'respondent0'
  | 'pair0'
  | 'pair1'
  | 'bus0'
  // netlab's own: mangos' STAR (nngcat has none); parsed and checked like bus0.
  | 'star';

/** 'none' covers both no format flag and `--format no`: nngcat prints nothing for either. */
export type CatFormat = 'none' | 'quoted' | 'hex' | 'raw' | 'ascii' | 'msgpack';

export interface CatAddress {
  mode: 'dial' | 'listen';
  url: string;
}

export interface CatArgs {
  protocol: CatProtocol;
  /** Every address in command-line order: nngcat creates and starts them in this order. */
  addresses: CatAddress[];
  dials: string[];
  listens: string[];
  /** --data (UTF-8 of the argument) or --file contents; possibly empty; null when neither given. */
  data: Uint8Array | null;
  /** null when absent. nngcat treats 0 like absent (no limit) everywhere but in its own checks. */
  count: number | null;
  /** null when absent; 0 is meaningful (send back-to-back, no pause). */
  intervalSec: number | null;
  /** null when absent; 0 behaves like absent. */
  delaySec: number | null;
  /**
   * null when absent. nngcat sets the socket option only for values > 0, so 0 means "no timeout";
   * but with --interval, req/surveyor/pair/bus cap each receive wait at this value, so there 0 means
   * "do not wait".
   */
  recvTimeoutSec: number | null;
  /** null when absent; 0 behaves like absent (no timeout). */
  sendTimeoutSec: number | null;
  format: CatFormat;
  /** null when absent (library default); `-Z 0` means 0x7fffffff. */
  recvMaxBytes: number | null;
  /** --async, or implied by --compat: dial/listen in the background instead of failing at once. */
  async: boolean;
  /** --compat: nanocat compatibility mode. */
  compat: boolean;
  /** sub0 with no --subscribe subscribes to everything: one empty topic. Empty for other protocols. */
  subscriptions: Uint8Array[];
  /** -v/--verbose and -q/--silent: the last one given wins, so at most one is true. */
  verbose: boolean;
  silent: boolean;
  /** Accepted and loaded like nngcat does; only tls+tcp:// and wss:// URLs would use them. */
  tls: { insecure: boolean; caCert: Uint8Array | null; cert: Uint8Array | null; key: Uint8Array | null };
  /** --zt-home (ZeroTier transport); accepted and kept, last one wins. */
  ztHome: string | null;
}

/** nngcat's status for every usage error, and for --help. */
export const NNGCAT_EXIT_FAILURE = 1;
/** What `nngcat --version` prints (libnng's version); netlab cat mirrors nngcat 1.5.2. */
export const NNGCAT_COMPAT_VERSION = '1.5.2';

export type CatParse =
  | { kind: 'run'; args: CatArgs }
  /** Print `stdout` on stdout and exit with exitCode (nngcat exits 1 after its help). */
  | { kind: 'help'; stdout: string; exitCode: number }
  | { kind: 'version'; stdout: string; exitCode: number }
  /** Print `message` plus a newline on stderr and exit with exitCode. */
  | { kind: 'error'; message: string; exitCode: number };

/** File access used for --file/--cacert/--cert/--key; injectable for tests. */
export interface CatArgsIo {
  /** Reads a whole file ('-' = standard input), throwing CatFileError on failure. */
  readFile(path: string): Uint8Array;
}

/** A failed --file read, split like nngcat's message: fopen failed, or fread failed. */
export class CatFileError extends Error {
  override readonly name = 'CatFileError';
  constructor(
    readonly phase: 'open' | 'read',
    readonly reason: string,
  ) {
    super(`${phase}: ${reason}`);
  }
}

/** nngcat's usage text, byte for byte (printed on stdout, then exit 1). */
export const NNGCAT_HELP = [
  'Usage: nngcat <proto> <addr>... [<fmt>] [<opts>...] [<src>]',
  '',
  '<proto> must be one of:',
  '  --req0                 (or alias --req)',
  '  --rep0                 (or alias --rep)',
  '  --pub0                 (or alias --pub)',
  '  --sub0                 (or alias --sub)',
  '  --push0                (or alias --push)',
  '  --pull0                (or alias --pull)',
  '  --surveyor0            (or alias --surveyor)',
  '  --respondent0          (or alias --respondent)',
  '  --pair0',
  '  --pair1',
  '  --pair                 (alias for either pair0 or pair1)',
  '',
  '<addr> must be one or more of:',
  '  --dial <url>           (or alias --connect <url>)',
  '  --listen <url>         (or alias --bind <url>)',
  '  --bind-local <port>    (or alias -L <port>)',
  '  --connect-local <port> (or alias -l <port>)',
  '  --bind-ipc <path>      (or alias -X <path>)',
  '  --connect-ipc <path>   (or alias -x <path>)',
  '',
  '<fmt> may be one or none of:',
  '  --format <no|ascii|hex|msgpack|quoted|raw>',
  '  --ascii                (or alias -A)',
  '  --quoted               (or alias -Q)',
  '  --hex',
  '  --msgpack',
  '  --raw',
  '',
  '<opts> may be any of:',
  '  --subscribe <topic>    (only with --sub protocol)',
  '  --silent               (or alias -q)',
  '  --verbose              (or alias -v)',
  '  --count <num>          (or alias -C <num>)',
  '  --delay <secs>         (or alias -d <secs>)',
  '  --interval <secs>      (or alias -i <secs>)',
  '  --recv-timeout <secs>',
  '  --send-timeout <secs>',
  '  --recv-maxsz <size>    (or alias -Z <size>)',
  '  --compat',
  '  --async',
  '  --insecure             (or alias -k)',
  '  --cacert <file>',
  '  --cert <file>          (or alias -E <file>)',
  '  --key <file>',
  '  --zt-home <path>',
  '',
  '<src> may be one of:',
  '  --file <file>          (or alias -F <file>). Use - for standard input.',
  '  --data <data>          (or alias -D <data>)',
  '',
].join('\n');

type OptionId =
  | 'help'
  | 'verbose'
  | 'silent'
  | CatProtocol
  | 'pair'
  | 'dial'
  | 'listen'
  | 'data'
  | 'file'
  | 'subscribe'
  | 'format'
  | 'ascii'
  | 'quoted'
  | 'raw'
  | 'hex'
  | 'compat'
  | 'async'
  | 'msgpack'
  | 'recv-maxsz'
  | 'count'
  | 'delay'
  | 'interval'
  | 'recv-timeout'
  | 'send-timeout'
  | 'socket-name'
  | 'dial-ipc'
  | 'listen-ipc'
  | 'dial-local'
  | 'listen-local'
  | 'insecure'
  | 'cacert'
  | 'key'
  | 'cert'
  | 'zt-home'
  | 'version';

interface OptionSpec {
  name: string;
  short?: string;
  id: OptionId;
  takesValue?: boolean;
}

/** nngcat's option table, same names, short letters and value flags. */
const OPTIONS: readonly OptionSpec[] = [
  { name: 'help', short: 'h', id: 'help' },
  { name: 'verbose', short: 'v', id: 'verbose' },
  { name: 'silent', short: 'q', id: 'silent' },
  { name: 'req0', id: 'req0' },
  { name: 'rep0', id: 'rep0' },
  { name: 'push0', id: 'push0' },
  { name: 'pull0', id: 'pull0' },
  { name: 'pub0', id: 'pub0' },
  { name: 'sub', id: 'sub0' },
  { name: 'sub0', id: 'sub0' },
  { name: 'surveyor0', id: 'surveyor0' },
  { name: 'respondent0', id: 'respondent0' },
  { name: 'pair', id: 'pair' },
  { name: 'pair0', id: 'pair0' },
  { name: 'pair1', id: 'pair1' },
  { name: 'bus0', id: 'bus0' },
  { name: 'star', id: 'star' },
  { name: 'dial', id: 'dial', takesValue: true },
  { name: 'listen', id: 'listen', takesValue: true },
  { name: 'data', short: 'D', id: 'data', takesValue: true },
  { name: 'file', short: 'F', id: 'file', takesValue: true },
  { name: 'subscribe', id: 'subscribe', takesValue: true },
  { name: 'format', id: 'format', takesValue: true },
  { name: 'ascii', short: 'A', id: 'ascii' },
  { name: 'quoted', short: 'Q', id: 'quoted' },
  { name: 'raw', id: 'raw' },
  { name: 'hex', id: 'hex' },
  { name: 'compat', id: 'compat' },
  { name: 'async', id: 'async' },
  { name: 'msgpack', id: 'msgpack' },
  { name: 'recv-maxsz', short: 'Z', id: 'recv-maxsz', takesValue: true },
  { name: 'count', short: 'C', id: 'count', takesValue: true },
  { name: 'delay', short: 'd', id: 'delay', takesValue: true },
  { name: 'interval', short: 'i', id: 'interval', takesValue: true },
  { name: 'recv-timeout', id: 'recv-timeout', takesValue: true },
  { name: 'send-timeout', id: 'send-timeout', takesValue: true },
  { name: 'socket-name', id: 'socket-name', takesValue: true },
  { name: 'bind', id: 'listen', takesValue: true },
  { name: 'connect', id: 'dial', takesValue: true },
  { name: 'bind-ipc', short: 'X', id: 'listen-ipc', takesValue: true },
  { name: 'connect-ipc', short: 'x', id: 'dial-ipc', takesValue: true },
  { name: 'bind-local', short: 'L', id: 'listen-local', takesValue: true },
  { name: 'connect-local', short: 'l', id: 'dial-local', takesValue: true },
  { name: 'insecure', short: 'k', id: 'insecure' },
  { name: 'cacert', id: 'cacert', takesValue: true },
  { name: 'key', id: 'key', takesValue: true },
  { name: 'cert', short: 'E', id: 'cert', takesValue: true },
  { name: 'zt-home', id: 'zt-home', takesValue: true },
  { name: 'version', short: 'V', id: 'version' },
];

type ScanStep =
  | { kind: 'option'; id: OptionId; value: string; next: number }
  | { kind: 'end' }
  | { kind: 'invalid' | 'ambiguous' | 'no-value' };

/** One step of nng_opts_parse: the option at argv[index], or why scanning stops there. */
function scanOption(argv: readonly string[], index: number): ScanStep {
  const word = argv[index];
  if (word === undefined || !word.startsWith('-')) return { kind: 'end' };
  if (word === '-') return { kind: 'end' };

  const isLong = word.startsWith('--');
  const body = word.slice(isLong ? 2 : 1);
  // Long names end at the first '=' or ':'; a short name is always one character.
  let nameLength = 1;
  if (isLong) {
    const separator = body.search(/[=:]/);
    nameLength = separator < 0 ? body.length : separator;
  }
  const name = body.slice(0, nameLength);

  let match: OptionSpec | undefined;
  let matchCount = 0;
  for (const option of OPTIONS) {
    if (!isLong) {
      if (option.short === body[0]) {
        match = option;
        matchCount = 1;
        break;
      }
      continue;
    }
    if (!option.name.startsWith(name)) continue;
    matchCount++;
    match = option;
    if (option.name.length === nameLength) {
      matchCount = 1; // an exact name beats every prefix match
      break;
    }
  }
  if (matchCount === 0 || match === undefined) return { kind: 'invalid' };
  if (matchCount > 1) return { kind: 'ambiguous' };

  const attached = body.length > nameLength;
  if (match.takesValue !== true) {
    return attached ? { kind: 'invalid' } : { kind: 'option', id: match.id, value: '', next: index + 1 };
  }
  if (attached) {
    // Short options take the rest of the word; long ones skip the '=' or ':'.
    const value = body.slice(isLong ? nameLength + 1 : nameLength);
    return { kind: 'option', id: match.id, value, next: index + 1 };
  }
  const value = argv[index + 1];
  if (value === undefined) return { kind: 'no-value' };
  return { kind: 'option', id: match.id, value, next: index + 2 };
}

/** Thrown inside the parser for nngcat's fatal(); caught once at the top. */
class Fatal extends Error {}

/** nngcat's intarg(): digits only, accumulated in a wrapping 32-bit int like the C code. */
function intArg(text: string, max: number): number {
  if (text === '') throw new Fatal('Empty integer argument.');
  let value = 0;
  for (const char of text) {
    if (char < '0' || char > '9') throw new Fatal('Integer argument expected.');
    value = (Math.imul(value, 10) + (char.charCodeAt(0) - 48)) | 0;
    if (value > max) throw new Fatal('Integer argument too large.');
  }
  if (value < 0) throw new Fatal('Integer argument overflow.');
  return value;
}

const MAX_SECONDS = 86_400; // nngcat: "max 1 day"
const MAX_INT32 = 0x7fffffff;
const MAX_LOCAL_PORT = 65_536; // nngcat's bound (one past the last real port)
/** nngcat formats -l/-L/-x/-X addresses into a 512-byte buffer with snprintf. */
const SCRATCH_BYTES = 512;

function scratchUrl(url: string): string {
  const bytes = new TextEncoder().encode(url);
  if (bytes.length < SCRATCH_BYTES) return url;
  return new TextDecoder().decode(bytes.subarray(0, SCRATCH_BYTES - 1));
}

function utf8(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}

const FORMAT_NAMES: Record<string, CatFormat> = {
  no: 'none',
  ascii: 'ascii',
  hex: 'hex',
  quoted: 'quoted',
  raw: 'raw',
  msgpack: 'msgpack',
};

function load(io: CatArgsIo, path: string): Uint8Array {
  try {
    return io.readFile(path);
  } catch (e) {
    if (!(e instanceof CatFileError)) throw e;
    throw new Fatal(
      e.phase === 'open' ? `Cannot open file ${path}: ${e.reason}` : `Read from ${path} failed: ${e.reason}`,
    );
  }
}

/** Parses argv (without the program and command names) like nngcat 1.5.2. */
export function parseCatArgs(argv: readonly string[], io: CatArgsIo = nodeCatArgsIo): CatParse {
  try {
    return parseOrThrow(argv, io);
  } catch (e) {
    if (e instanceof Fatal) return { kind: 'error', message: e.message, exitCode: NNGCAT_EXIT_FAILURE };
    throw e;
  }
}

function parseOrThrow(argv: readonly string[], io: CatArgsIo): CatParse {
  const d = newDraft();
  let index = 0;
  let step: ScanStep;
  for (;;) {
    step = scanOption(argv, index);
    if (step.kind !== 'option') break;
    index = step.next;
    const early = applyOption(d, step.id, step.value, io);
    if (early !== undefined) return early;
  }

  // nngcat reports the word it stopped at, whole (e.g. "--verbose=1").
  const word = argv[index] ?? '';
  if (step.kind === 'invalid') throw new Fatal(`Option ${word} is invalid.`);
  if (step.kind === 'ambiguous') throw new Fatal(`Option ${word} is ambiguous (specify in full).`);
  if (step.kind === 'no-value') throw new Fatal(`Option ${word} requires argument.`);

  if (d.addresses.length === 0) throw new Fatal('No address specified.');
  return { kind: 'run', args: argsOf(d, checkCombinations(d)) };
}

/** What the options scanned so far set, as nngcat's globals hold it while it parses. */
interface CatDraft {
  protocol: CatProtocol | null;
  addresses: CatAddress[];
  topics: Uint8Array[];
  format: CatFormat | null;
  data: Uint8Array | null;
  count: number | null;
  intervalSec: number | null;
  delaySec: number | null;
  recvTimeoutSec: number | null;
  sendTimeoutSec: number | null;
  recvMaxBytes: number | null;
  asyncMode: boolean;
  compat: boolean;
  loudness: 'verbose' | 'silent' | null;
  tls: CatArgs['tls'];
  ztHome: string | null;
}

function newDraft(): CatDraft {
  return {
    protocol: null,
    addresses: [],
    topics: [],
    format: null,
    data: null,
    count: null,
    intervalSec: null,
    delaySec: null,
    recvTimeoutSec: null,
    sendTimeoutSec: null,
    recvMaxBytes: null,
    asyncMode: false,
    compat: false,
    loudness: null,
    tls: { insecure: false, caCert: null, cert: null, key: null },
    ztHome: null,
  };
}

/**
 * Applies one scanned option to the draft (a fatal error aborts at once, in command-line order);
 * --help and --version end the parse with their answer.
 */
function applyOption(d: CatDraft, id: OptionId, value: string, io: CatArgsIo): CatParse | undefined {
  switch (id) {
    case 'help':
      return { kind: 'help', stdout: NNGCAT_HELP, exitCode: NNGCAT_EXIT_FAILURE };
    case 'version':
      return { kind: 'version', stdout: `${NNGCAT_COMPAT_VERSION}\n`, exitCode: 0 };
    case 'req0':
    case 'rep0':
    case 'sub0':
    case 'pub0':
    case 'bus0':
    case 'surveyor0':
    case 'respondent0':
    case 'pair0':
    case 'pair1':
    case 'push0':
    case 'pull0':
    case 'star':
      if (d.protocol !== null) throw new Fatal('Only one protocol may be specified.');
      d.protocol = id;
      break;
    case 'pair':
      // nngcat 1.5.2 has no case for its own --pair option: it is accepted and has no effect.
      break;
    case 'dial':
    case 'listen':
      d.addresses.push({ mode: id, url: value });
      break;
    case 'dial-local':
    case 'listen-local': {
      const port = intArg(value, MAX_LOCAL_PORT);
      d.addresses.push({
        mode: id === 'dial-local' ? 'dial' : 'listen',
        url: scratchUrl(`tcp://127.0.0.1:${port}`),
      });
      break;
    }
    case 'dial-ipc':
    case 'listen-ipc':
      d.addresses.push({ mode: id === 'dial-ipc' ? 'dial' : 'listen', url: scratchUrl(`ipc:///${value}`) });
      break;
    case 'count':
      d.count = intArg(value, MAX_INT32);
      break;
    case 'subscribe':
      d.topics.push(utf8(value));
      break;
    case 'verbose':
    case 'silent':
      d.loudness = id;
      break;
    case 'delay':
      d.delaySec = intArg(value, MAX_SECONDS);
      break;
    case 'interval':
      d.intervalSec = intArg(value, MAX_SECONDS);
      break;
    case 'send-timeout':
      d.sendTimeoutSec = intArg(value, MAX_SECONDS);
      break;
    case 'recv-timeout':
      d.recvTimeoutSec = intArg(value, MAX_SECONDS);
      break;
    case 'recv-maxsz': {
      const size = intArg(value, MAX_INT32);
      d.recvMaxBytes = size === 0 ? MAX_INT32 : size;
      break;
    }
    case 'compat':
      d.compat = true;
      break;
    case 'async':
      d.asyncMode = true;
      break;
    default:
      applySourceOption(d, id, value, io);
  }
  return undefined;
}

/** The options applySourceOption takes (applyOption's switch must handle every other one). */
type SourceOptionId = Extract<
  OptionId,
  | 'ascii'
  | 'raw'
  | 'quoted'
  | 'msgpack'
  | 'hex'
  | 'format'
  | 'file'
  | 'data'
  | 'cacert'
  | 'key'
  | 'cert'
  | 'zt-home'
  | 'insecure'
  | 'socket-name'
>;

/** The format, data and TLS file options (each at most once), --zt-home, --insecure, --socket-name. */
function applySourceOption(d: CatDraft, id: SourceOptionId, value: string, io: CatArgsIo): void {
  const { tls } = d;
  switch (id) {
    case 'ascii':
    case 'raw':
    case 'quoted':
    case 'msgpack':
    case 'hex':
      if (d.format !== null) throw new Fatal('Format may be specified only once.');
      d.format = id;
      break;
    case 'format': {
      if (d.format !== null) throw new Fatal('Format may be specified only once.');
      const named = Object.hasOwn(FORMAT_NAMES, value) ? FORMAT_NAMES[value] : undefined;
      if (named === undefined) throw new Fatal('Invalid format specified.');
      d.format = named;
      break;
    }
    case 'file':
      if (d.data !== null) throw new Fatal('Data (--file, --data) may be specified only once.');
      d.data = load(io, value);
      break;
    case 'data':
      if (d.data !== null) throw new Fatal('Data (--file, --data) may be specified only once.');
      d.data = utf8(value);
      break;
    case 'cacert':
      if (tls.caCert !== null) throw new Fatal('CA Certificate (--cacert) may be specified only once.');
      tls.caCert = load(io, value);
      break;
    case 'key':
      if (tls.key !== null) throw new Fatal('Key (--key) may be specified only once.');
      tls.key = load(io, value);
      break;
    case 'cert':
      if (tls.cert !== null) throw new Fatal('Cert (--cert) may be specified only once.');
      tls.cert = load(io, value);
      break;
    case 'zt-home':
      d.ztHome = value;
      break;
    case 'insecure':
      tls.insecure = true;
      break;
    case 'socket-name':
      // Accepted for nanocat compatibility and ignored, as in nngcat.
      break;
  }
}

/**
 * nngcat's checks after the scan, in its order: --compat (which implies --async), --subscribe (sub0
 * with none subscribes to everything), the per-protocol checks, then "No protocol specified.".
 * Returns the protocol.
 */
function checkCombinations(d: CatDraft): CatProtocol {
  const { protocol, topics, data, intervalSec, format } = d;
  if (d.compat) {
    if (d.asyncMode) throw new Fatal('Options --async and --compat are incompatible.');
    if (d.count !== null && d.count !== 0) throw new Fatal('Options --count and --compat are incompatible.');
    if (protocol === 'pair1') throw new Fatal('Protocol does not support --compat.');
    d.asyncMode = true;
  }

  if (protocol === 'sub0') {
    if (topics.length === 0) topics.push(new Uint8Array(0)); // subscribe to everything
  } else if (topics.length > 0) {
    throw new Fatal('Protocol does not support --subscribe.');
  }

  switch (protocol) {
    case 'pull0':
    case 'sub0':
      if (data !== null) throw new Fatal('Protocol does not support --file or --data.');
      if (intervalSec !== null) throw new Fatal('Protocol does not support --interval.');
      break;
    case 'push0':
    case 'pub0':
      if (format !== null) throw new Fatal('Protocol does not support --format options.');
      if (data === null) throw new Fatal('Protocol requires either --file or --data.');
      break;
    case 'surveyor0':
    case 'req0':
      if (data === null) throw new Fatal('Protocol requires either --file or --data.');
      break;
    case 'rep0':
    case 'respondent0':
      if (intervalSec !== null) throw new Fatal('Protocol does not support --interval.');
      break;
    case 'pair0':
    case 'pair1':
    case 'bus0':
    case 'star':
      if (intervalSec !== null && data === null) {
        throw new Fatal('Option --interval requires either --file or --data.');
      }
      break;
    case null:
      throw new Fatal('No protocol specified.');
  }
  return protocol;
}

/** The parsed command line: the draft, checked, with its defaults filled in. */
function argsOf(d: CatDraft, protocol: CatProtocol): CatArgs {
  const { addresses } = d;
  return {
    protocol,
    addresses,
    dials: addresses.filter((a) => a.mode === 'dial').map((a) => a.url),
    listens: addresses.filter((a) => a.mode === 'listen').map((a) => a.url),
    data: d.data,
    count: d.count,
    intervalSec: d.intervalSec,
    delaySec: d.delaySec,
    recvTimeoutSec: d.recvTimeoutSec,
    sendTimeoutSec: d.sendTimeoutSec,
    format: d.format ?? 'none',
    recvMaxBytes: d.recvMaxBytes,
    async: d.asyncMode,
    compat: d.compat,
    subscriptions: d.topics,
    verbose: d.loudness === 'verbose',
    silent: d.loudness === 'silent',
    tls: d.tls,
    ztHome: d.ztHome,
  };
}

/** glibc's strerror() text for the errors a file read can hit; nngcat prints these. */
const STRERROR: Record<string, string> = {
  ENOENT: 'No such file or directory',
  EACCES: 'Permission denied',
  EPERM: 'Operation not permitted',
  EISDIR: 'Is a directory',
  ENOTDIR: 'Not a directory',
  ELOOP: 'Too many levels of symbolic links',
  ENAMETOOLONG: 'File name too long',
  EMFILE: 'Too many open files',
  ENFILE: 'Too many open files in system',
  EIO: 'Input/output error',
  ENXIO: 'No such device or address',
  ENODEV: 'No such device',
  EINVAL: 'Invalid argument',
  EAGAIN: 'Resource temporarily unavailable',
  ENOMEM: 'Cannot allocate memory',
  EFBIG: 'File too large',
  EOVERFLOW: 'Value too large for defined data type',
  EROFS: 'Read-only file system',
  ETXTBSY: 'Text file busy',
  EBADF: 'Bad file descriptor',
  EBUSY: 'Device or resource busy',
};

function strerror(e: unknown): string {
  const code = (e as { code?: unknown }).code;
  if (typeof code === 'string' && Object.hasOwn(STRERROR, code)) return STRERROR[code] ?? code;
  return e instanceof Error ? e.message : String(e);
}

const READ_CHUNK_BYTES = 64 * 1024;
/** Pause before retrying a read of a non-blocking stdin that has no data yet. */
const EAGAIN_RETRY_MS = 5;

/** Reads a whole file with open and read kept apart, so errors map onto nngcat's two messages. */
function readWholeFile(path: string): Uint8Array {
  const isStdin = path === '-';
  let fd: number;
  if (isStdin) {
    fd = 0;
  } else {
    try {
      fd = openSync(path, 'r');
    } catch (e) {
      throw new CatFileError('open', strerror(e));
    }
  }
  const chunks: Buffer[] = [];
  try {
    for (;;) {
      const chunk = Buffer.allocUnsafe(READ_CHUNK_BYTES);
      let bytesRead: number;
      try {
        bytesRead = readSync(fd, chunk, 0, chunk.length, null);
      } catch (e) {
        // A stdin inherited in non-blocking mode reports EAGAIN instead of blocking: wait and retry.
        if ((e as { code?: unknown }).code === 'EAGAIN') {
          Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, EAGAIN_RETRY_MS);
          continue;
        }
        if ((e as { code?: unknown }).code === 'EOF') break;
        throw new CatFileError('read', strerror(e));
      }
      if (bytesRead === 0) break;
      chunks.push(chunk.subarray(0, bytesRead));
    }
  } finally {
    if (!isStdin) closeSync(fd);
  }
  return new Uint8Array(Buffer.concat(chunks));
}

/** The real file system and standard input. */
export const nodeCatArgsIo: CatArgsIo = { readFile: readWholeFile };
