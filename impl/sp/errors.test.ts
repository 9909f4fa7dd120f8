import { describe, expect, it } from 'vitest';
import { NNG_ERRNO, SP_ERROR_CODES, SpError, spError } from './errors.js';

describe('SpError', () => {
  it('keeps the code list stable (reports and users match on these strings)', () => {
    expect(SP_ERROR_CODES).toEqual([
      'ErrClosed',
      'ErrBadHeader',
      'ErrBadVersion',
      'ErrBadProto',
      'ErrTooLong',
      'ErrSendTimeout',
      'ErrRecvTimeout',
      'ErrProtoState',
      'ErrProtoOp',
      'ErrCanceled',
      'ErrConnRefused',
      'ErrAddrInUse',
      'ErrBadOption',
      'ErrBadValue',
      'ErrNoPeers',
      'ErrNotRaw',
      'ErrBadTran',
      'ErrBadAddr',
      'ErrConnReset',
      'ErrTimedOut',
      'ErrBadType',
      'ErrGarbled',
    ]);
    expect(new Set(SP_ERROR_CODES).size).toBe(22);
  });

  it('carries its code, a name, a code-prefixed message and the cause', () => {
    const cause = new Error('socket hang up');
    const e = new SpError('ErrConnReset', 'peer reset the connection', { cause });
    expect(e).toBeInstanceOf(Error);
    expect(e.name).toBe('SpError');
    expect(e.code).toBe('ErrConnReset');
    expect(e.message).toBe('ErrConnReset: peer reset the connection');
    expect(e.cause).toBe(cause);
    expect(String(e)).toBe('SpError: ErrConnReset: peer reset the connection');
  });

  it('spError builds the same error, with or without a cause', () => {
    const e = spError('ErrClosed', 'socket closed');
    expect(e).toBeInstanceOf(SpError);
    expect(e.message).toBe('ErrClosed: socket closed');
    expect('cause' in e).toBe(false);
    expect(spError('ErrCanceled', 'x', 42).cause).toBe(42);
  });
});

describe('NNG_ERRNO', () => {
  it('maps codes to nng.h numbers (sp.md §5)', () => {
    expect(NNG_ERRNO).toEqual({
      ErrBadValue: 3, // NNG_EINVAL
      ErrBadOption: 3,
      ErrBadAddr: 3,
      ErrSendTimeout: 5, // NNG_ETIMEDOUT, shared by send and recv
      ErrRecvTimeout: 5,
      ErrTimedOut: 5,
      ErrConnRefused: 6,
      ErrClosed: 7,
      ErrProtoOp: 9, // NNG_ENOTSUP
      ErrBadTran: 9,
      ErrAddrInUse: 10,
      ErrProtoState: 11,
      ErrBadHeader: 13, // NNG_EPROTO
      ErrBadVersion: 13,
      ErrBadProto: 13,
      ErrTooLong: 17, // NNG_EMSGSIZE
      ErrConnReset: 19,
      ErrCanceled: 20,
    });
  });

  it('leaves out codes nng has no counterpart for', () => {
    for (const code of ['ErrNoPeers', 'ErrNotRaw', 'ErrBadType', 'ErrGarbled'] as const) {
      expect(NNG_ERRNO[code]).toBeUndefined();
    }
    for (const code of Object.keys(NNG_ERRNO)) expect(SP_ERROR_CODES).toContain(code);
  });
});
