/**
 * SP addresses: tcp://host:port, ipc:///path, inproc://name. Parsing maps them to runtime addresses
 * (tcp stays tcp; ipc becomes a unix-domain address) and rejects unknown schemes with ErrBadTran and
 * malformed addresses with ErrBadAddr, before any I/O.
 */
import { spError } from '../errors.js';

export type SpUrl =
  | { transport: 'tcp'; host: string; port: number; text: string }
  | { transport: 'ipc'; path: string; text: string }
  | { transport: 'inproc'; name: string; text: string };

const TRANSPORTS = ['tcp', 'ipc', 'inproc'];

export function parseSpUrl(text: string, forListen = false): SpUrl {
  if (typeof text !== 'string') throw spError('ErrBadAddr', `address must be a string, got ${typeof text}`);
  const m = /^([a-z][a-z0-9+.-]*):\/\/(.*)$/i.exec(text);
  if (!m) throw spError('ErrBadAddr', `not an SP address (scheme://...): ${JSON.stringify(text)}`);
  const scheme = m[1]!.toLowerCase();
  const rest = m[2]!;
  switch (scheme) {
    case 'tcp': {
      const hp = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9_.-]*|\*):(\d{1,5})$/.exec(rest);
      if (!hp) throw spError('ErrBadAddr', `expected tcp://host:port, got ${JSON.stringify(text)}`);
      const port = Number(hp[2]);
      if (port > 65535) throw spError('ErrBadAddr', `port out of range in ${JSON.stringify(text)}`);
      let host = hp[1]!;
      if (host.startsWith('[')) host = host.slice(1, -1);
      if (host === '' || host === '*') {
        if (!forListen) throw spError('ErrBadAddr', `a dial address needs a host: ${JSON.stringify(text)}`);
        host = '0.0.0.0';
      }
      if (!forListen && port === 0)
        throw spError('ErrBadAddr', `cannot dial port 0: ${JSON.stringify(text)}`);
      return { transport: 'tcp', host, port, text };
    }
    case 'ipc':
      if (rest === '' || rest.includes('\0'))
        throw spError('ErrBadAddr', `expected ipc:///path, got ${JSON.stringify(text)}`);
      return { transport: 'ipc', path: rest, text };
    case 'inproc':
      if (rest === '') throw spError('ErrBadAddr', `expected inproc://name, got ${JSON.stringify(text)}`);
      return { transport: 'inproc', name: rest, text };
    default:
      throw spError(
        'ErrBadTran',
        `unsupported transport '${scheme}' in ${JSON.stringify(text)} (supported: ${TRANSPORTS.join(', ')})`,
      );
  }
}

/** The runtime (Env) address for a tcp or ipc SP address. */
export function runtimeAddress(url: SpUrl): string {
  switch (url.transport) {
    case 'tcp':
      return url.host.includes(':') ? `tcp://[${url.host}]:${url.port}` : `tcp://${url.host}:${url.port}`;
    case 'ipc':
      return `unix://${url.path}`;
    case 'inproc':
      throw new Error('inproc addresses have no runtime address');
  }
}

/** The SP spelling of a bound runtime address (e.g. the real port after listening on port 0). */
export function spAddress(transport: 'tcp' | 'ipc', runtimeAddr: string): string {
  if (transport === 'ipc') return runtimeAddr.replace(/^unix:\/\//, 'ipc://');
  return runtimeAddr;
}
