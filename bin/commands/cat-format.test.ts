/** Checks cat-format against fixtures captured from nngcat 1.5.2 and, when installed, nngcat itself. */
import { existsSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { gatePeers, runPeer, startPeer, stopAllPeers, tempIpcPath } from '../../scenarios/interop/harness.js';
import type { CatFormat } from './cat-args.js';
import { formatMessage } from './cat-format.js';

const ALL_BYTES = Uint8Array.from({ length: 256 }, (_, i) => i);
const text = (bytes: Uint8Array): string => Buffer.from(bytes).toString('latin1');
const bytesOf = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'latin1'));

/** nngcat 1.5.2 --quoted of the bytes 0x00..0xff, 16 per line, without the quotes and newline. */
const NNGCAT_QUOTED_BODY = [
  '\\x00\\x01\\x02\\x03\\x04\\x05\\x06\\x07\\x08\\t\\n\\x0b\\x0c\\r\\x0e\\x0f',
  '\\x10\\x11\\x12\\x13\\x14\\x15\\x16\\x17\\x18\\x19\\x1a\\x1b\\x1c\\x1d\\x1e\\x1f',
  ' !\\"#$%&\'()*+,-./',
  '0123456789:;<=>?',
  '@ABCDEFGHIJKLMNO',
  'PQRSTUVWXYZ[\\\\]^_',
  '`abcdefghijklmno',
  'pqrstuvwxyz{|}~\\x7f',
  '\\x80\\x81\\x82\\x83\\x84\\x85\\x86\\x87\\x88\\x89\\x8a\\x8b\\x8c\\x8d\\x8e\\x8f',
  '\\x90\\x91\\x92\\x93\\x94\\x95\\x96\\x97\\x98\\x99\\x9a\\x9b\\x9c\\x9d\\x9e\\x9f',
  '\\xa0\\xa1\\xa2\\xa3\\xa4\\xa5\\xa6\\xa7\\xa8\\xa9\\xaa\\xab\\xac\\xad\\xae\\xaf',
  '\\xb0\\xb1\\xb2\\xb3\\xb4\\xb5\\xb6\\xb7\\xb8\\xb9\\xba\\xbb\\xbc\\xbd\\xbe\\xbf',
  '\\xc0\\xc1\\xc2\\xc3\\xc4\\xc5\\xc6\\xc7\\xc8\\xc9\\xca\\xcb\\xcc\\xcd\\xce\\xcf',
  '\\xd0\\xd1\\xd2\\xd3\\xd4\\xd5\\xd6\\xd7\\xd8\\xd9\\xda\\xdb\\xdc\\xdd\\xde\\xdf',
  '\\xe0\\xe1\\xe2\\xe3\\xe4\\xe5\\xe6\\xe7\\xe8\\xe9\\xea\\xeb\\xec\\xed\\xee\\xef',
  '\\xf0\\xf1\\xf2\\xf3\\xf4\\xf5\\xf6\\xf7\\xf8\\xf9\\xfa\\xfb\\xfc\\xfd\\xfe\\xff',
].join('');

/** nngcat 1.5.2 --hex of the bytes 0x00..0xff, 16 per line, without the quotes and newline. */
const NNGCAT_HEX_BODY = [
  '\\x00\\x01\\x02\\x03\\x04\\x05\\x06\\x07\\x08\\x09\\x0a\\x0b\\x0c\\x0d\\x0e\\x0f',
  '\\x10\\x11\\x12\\x13\\x14\\x15\\x16\\x17\\x18\\x19\\x1a\\x1b\\x1c\\x1d\\x1e\\x1f',
  '\\x20\\x21\\x22\\x23\\x24\\x25\\x26\\x27\\x28\\x29\\x2a\\x2b\\x2c\\x2d\\x2e\\x2f',
  '\\x30\\x31\\x32\\x33\\x34\\x35\\x36\\x37\\x38\\x39\\x3a\\x3b\\x3c\\x3d\\x3e\\x3f',
  '\\x40\\x41\\x42\\x43\\x44\\x45\\x46\\x47\\x48\\x49\\x4a\\x4b\\x4c\\x4d\\x4e\\x4f',
  '\\x50\\x51\\x52\\x53\\x54\\x55\\x56\\x57\\x58\\x59\\x5a\\x5b\\x5c\\x5d\\x5e\\x5f',
  '\\x60\\x61\\x62\\x63\\x64\\x65\\x66\\x67\\x68\\x69\\x6a\\x6b\\x6c\\x6d\\x6e\\x6f',
  '\\x70\\x71\\x72\\x73\\x74\\x75\\x76\\x77\\x78\\x79\\x7a\\x7b\\x7c\\x7d\\x7e\\x7f',
  '\\x80\\x81\\x82\\x83\\x84\\x85\\x86\\x87\\x88\\x89\\x8a\\x8b\\x8c\\x8d\\x8e\\x8f',
  '\\x90\\x91\\x92\\x93\\x94\\x95\\x96\\x97\\x98\\x99\\x9a\\x9b\\x9c\\x9d\\x9e\\x9f',
  '\\xa0\\xa1\\xa2\\xa3\\xa4\\xa5\\xa6\\xa7\\xa8\\xa9\\xaa\\xab\\xac\\xad\\xae\\xaf',
  '\\xb0\\xb1\\xb2\\xb3\\xb4\\xb5\\xb6\\xb7\\xb8\\xb9\\xba\\xbb\\xbc\\xbd\\xbe\\xbf',
  '\\xc0\\xc1\\xc2\\xc3\\xc4\\xc5\\xc6\\xc7\\xc8\\xc9\\xca\\xcb\\xcc\\xcd\\xce\\xcf',
  '\\xd0\\xd1\\xd2\\xd3\\xd4\\xd5\\xd6\\xd7\\xd8\\xd9\\xda\\xdb\\xdc\\xdd\\xde\\xdf',
  '\\xe0\\xe1\\xe2\\xe3\\xe4\\xe5\\xe6\\xe7\\xe8\\xe9\\xea\\xeb\\xec\\xed\\xee\\xef',
  '\\xf0\\xf1\\xf2\\xf3\\xf4\\xf5\\xf6\\xf7\\xf8\\xf9\\xfa\\xfb\\xfc\\xfd\\xfe\\xff',
].join('');

/** nngcat 1.5.2 --ascii of the bytes 0x00..0xff (no newline). */
const NNGCAT_ASCII = [
  '................................ !"#$%&\'()*+,-./0123456789:;<=>?',
  '@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~.',
  '................................................................',
  '................................................................',
].join('');

afterAll(() => stopAllPeers());

describe('formatMessage (pinned to nngcat 1.5.2 output)', () => {
  it('quoted: \\n \\r \\t \\" \\\\ short escapes, 0x20..0x7e literal, the rest \\xHH lowercase', () => {
    expect(text(formatMessage('quoted', ALL_BYTES))).toBe(`"${NNGCAT_QUOTED_BODY}"\n`);
    expect(text(formatMessage('quoted', new Uint8Array(0)))).toBe('""\n');
    // No \a \b \v \f \0 forms, and nothing stops a hex digit from following \xHH.
    expect(text(formatMessage('quoted', bytesOf('\x07\x08\x0b\x0c\x00a')))).toBe(
      '"\\x07\\x08\\x0b\\x0c\\x00a"\n',
    );
  });

  it('hex: every byte as \\xHH inside quotes, one line per message', () => {
    expect(text(formatMessage('hex', ALL_BYTES))).toBe(`"${NNGCAT_HEX_BODY}"\n`);
    expect(text(formatMessage('hex', new Uint8Array(0)))).toBe('""\n');
  });

  it('ascii: printable bytes as is, others as ".", and no newline', () => {
    expect(text(formatMessage('ascii', ALL_BYTES))).toBe(NNGCAT_ASCII);
    expect(formatMessage('ascii', new Uint8Array(0))).toHaveLength(0);
  });

  it('raw: the body unchanged; none: nothing', () => {
    expect(formatMessage('raw', ALL_BYTES)).toEqual(ALL_BYTES);
    expect(formatMessage('none', ALL_BYTES)).toHaveLength(0);
  });

  it('msgpack: bin8/bin16/bin32 header by length, then the body', () => {
    // Header bytes observed from nngcat for bodies of these lengths.
    const observed: [number, number[]][] = [
      [0, [0xc4, 0x00]],
      [5, [0xc4, 0x05]],
      [255, [0xc4, 0xff]],
      [256, [0xc5, 0x01, 0x00]],
      [65_535, [0xc5, 0xff, 0xff]],
      [65_536, [0xc6, 0x00, 0x01, 0x00, 0x00]],
    ];
    for (const [lengthBytes, header] of observed) {
      const body = new Uint8Array(lengthBytes).fill(0x61);
      const out = formatMessage('msgpack', body);
      expect([...out.subarray(0, header.length)]).toEqual(header);
      // Buffer.equals: a deep toEqual over 64 KiB arrays takes hundreds of milliseconds.
      expect(Buffer.from(out.subarray(header.length)).equals(body)).toBe(true);
    }
  });
});

const FORMATS: CatFormat[] = ['quoted', 'hex', 'ascii', 'raw', 'msgpack'];
/** Messages sent in order: every byte value (bin16 for msgpack), an empty one, a short one. */
const MESSAGES = [ALL_BYTES, new Uint8Array(0), bytesOf('tab\there "q" \\')];

/** Waits until the listener's socket file exists, so the dialer's first attempt usually connects. */
async function socketFile(path: string, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!existsSync(path) && performance.now() < deadline) await new Promise((r) => setTimeout(r, 10));
}

describe('formatMessage against nngcat', () => {
  it('matches what nngcat --pull0 prints for every format and every byte value', async (ctx) => {
    gatePeers(ctx, ['nngcat']);
    await Promise.all(
      FORMATS.map(async (format) => {
        const path = tempIpcPath(`fmt-${format}`);
        const url = `ipc://${path}`;
        const receiver = startPeer({
          command: 'nngcat',
          args: ['--pull0', '--listen', url, `--${format}`, '--count', String(MESSAGES.length)],
          timeoutMs: 8000,
        });
        await socketFile(path, 2000);
        // push0 sends once, lingers 200 ms and exits; --async retries the dial instead of failing.
        for (const message of MESSAGES) {
          const sent = await runPeer({
            command: 'nngcat',
            args: ['--push0', '--async', '--dial', url, '--file', '-'],
            stdin: message,
            timeoutMs: 5000,
          });
          expect(sent.code, sent.stderr).toBe(0);
        }
        const received = await receiver.done;
        expect(received.code, received.stderr).toBe(0);
        const expected = Buffer.concat(MESSAGES.map((m) => formatMessage(format, m)));
        expect(text(received.stdout), format).toBe(text(expected));
      }),
    );
  });
});
