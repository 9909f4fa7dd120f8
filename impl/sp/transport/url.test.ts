/**
 * SP address parsing: each malformed address is ErrBadAddr with a message naming what is wrong,
 * an unknown scheme ErrBadTran naming the supported ones; the runtime spelling of each transport.
 * (Seed-2 mutation survivor url.ts:16, never reached.)
 */
import { describe, expect, it } from 'vitest';
import { SpError } from '../errors.js';
import { parseSpUrl, runtimeAddress, spAddress } from './url.js';

function failure(text: unknown, forListen = false): string {
  try {
    parseSpUrl(text as string, forListen);
    return 'ok';
  } catch (e) {
    return e instanceof SpError ? e.message : `not an SpError: ${String(e)}`;
  }
}

describe('parseSpUrl rejects', () => {
  it.each([
    [42, 'ErrBadAddr: address must be a string, got number'],
    ['a:5555', 'ErrBadAddr: not an SP address (scheme://...): "a:5555"'],
    ['tcp://a', 'ErrBadAddr: expected tcp://host:port, got "tcp://a"'],
    ['tcp://a:65536', 'ErrBadAddr: port out of range in "tcp://a:65536"'],
    ['tcp://:5555', 'ErrBadAddr: a dial address needs a host: "tcp://:5555"'],
    ['tcp://*:5555', 'ErrBadAddr: a dial address needs a host: "tcp://*:5555"'],
    ['tcp://a:0', 'ErrBadAddr: cannot dial port 0: "tcp://a:0"'],
    ['ipc://', 'ErrBadAddr: expected ipc:///path, got "ipc://"'],
    ['ipc:///tmp/a\0b', 'ErrBadAddr: expected ipc:///path, got "ipc:///tmp/a\\u0000b"'],
    ['inproc://', 'ErrBadAddr: expected inproc://name, got "inproc://"'],
    // Anchors: nothing before the scheme, nothing around host:port (seed-5 survivor url.ts:23).
    [' tcp://a:1', 'ErrBadAddr: not an SP address (scheme://...): " tcp://a:1"'],
    ['tcp://x/a:5555', 'ErrBadAddr: expected tcp://host:port, got "tcp://x/a:5555"'],
    ['tcp://a:5555/x', 'ErrBadAddr: expected tcp://host:port, got "tcp://a:5555/x"'],
    ['tcp://a:123456', 'ErrBadAddr: expected tcp://host:port, got "tcp://a:123456"'],
    ['tcp://a b:1', 'ErrBadAddr: expected tcp://host:port, got "tcp://a b:1"'],
    ['tcp://[::g]:1', 'ErrBadAddr: expected tcp://host:port, got "tcp://[::g]:1"'],
    ['tcp://[::1:1', 'ErrBadAddr: expected tcp://host:port, got "tcp://[::1:1"'],
    ['udp://a:1', `ErrBadTran: unsupported transport 'udp' in "udp://a:1" (supported: tcp, ipc, inproc)`],
  ])('%j', (text, message) => {
    expect(failure(text)).toBe(message);
  });
});

describe('parseSpUrl accepts', () => {
  it('the edges of a TCP address: port 65535, port 0 and a wildcard host to listen on', () => {
    expect(parseSpUrl('tcp://a:65535')).toEqual({
      transport: 'tcp',
      host: 'a',
      port: 65535,
      text: 'tcp://a:65535',
    });
    expect(parseSpUrl('tcp://*:0', true)).toEqual({
      transport: 'tcp',
      host: '0.0.0.0',
      port: 0,
      text: 'tcp://*:0',
    });
    expect(parseSpUrl('tcp://:7', true)).toMatchObject({ host: '0.0.0.0', port: 7 });
    expect(parseSpUrl('TCP://[::1]:7')).toMatchObject({ transport: 'tcp', host: '::1', port: 7 });
  });

  it('ipc and inproc names as given', () => {
    expect(parseSpUrl('ipc:///tmp/x.sock')).toEqual({
      transport: 'ipc',
      path: '/tmp/x.sock',
      text: 'ipc:///tmp/x.sock',
    });
    expect(parseSpUrl('inproc://a/b')).toEqual({ transport: 'inproc', name: 'a/b', text: 'inproc://a/b' });
  });
});

describe('runtime addresses', () => {
  it('tcp keeps its spelling (IPv6 hosts bracketed), ipc becomes unix, inproc has none', () => {
    expect(runtimeAddress(parseSpUrl('tcp://a:1'))).toBe('tcp://a:1');
    expect(runtimeAddress(parseSpUrl('tcp://[::1]:1'))).toBe('tcp://[::1]:1');
    expect(runtimeAddress(parseSpUrl('ipc:///tmp/x'))).toBe('unix:///tmp/x');
    expect(() => runtimeAddress(parseSpUrl('inproc://x'))).toThrow(
      'inproc addresses have no runtime address',
    );
  });

  it('a bound runtime address back in SP spelling', () => {
    expect(spAddress('ipc', 'unix:///tmp/x')).toBe('ipc:///tmp/x');
    expect(spAddress('tcp', 'tcp://a:49152')).toBe('tcp://a:49152');
  });
});
