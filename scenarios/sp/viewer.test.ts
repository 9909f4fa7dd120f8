import { describe, expect, it } from 'vitest';
import type { TraceEvent } from '../../sim/trace.js';
import { messageView } from '../../web/viewer-model.js';
import { encodeField, spFieldBytes, spViewerDecoder } from './viewer.js';

describe('SP message decoder', () => {
  it('re-encodes field values big-endian; what the trace lacks is null', () => {
    expect(encodeField({ name: 'id', offset: 0, length: 4, value: 4195392876 })).toEqual([
      0xfa, 0x10, 0x9d, 0x6c,
    ]);
    expect(encodeField({ name: 'len', offset: 0, length: 8, value: 8 })).toEqual([0, 0, 0, 0, 0, 0, 0, 8]);
    expect(encodeField({ name: 'b', offset: 0, length: 1, value: true })).toEqual([1]);
    expect(encodeField({ name: 'big', offset: 0, length: 1, value: 300 })).toEqual([null]);
    expect(encodeField({ name: 's', offset: 0, length: 2, value: 'ok' })).toEqual([0x6f, 0x6b]);
  });

  it('knows SP fields: the ipc type byte before a length, a backtrace counted but not carried', () => {
    expect(spFieldBytes({ name: 'length', offset: 0, length: 9, value: 3 })).toEqual([
      1, 0, 0, 0, 0, 0, 0, 0, 3,
    ]);
    expect(spFieldBytes({ name: 'length', offset: 0, length: 8, value: 3 })).toEqual([
      0, 0, 0, 0, 0, 0, 0, 3,
    ]);
    expect(spFieldBytes({ name: 'backtrace-words', offset: 0, length: 8, value: 2 })).toEqual(
      new Array(8).fill(null),
    );
  });

  it('handles every SP protocol, and lays out a REP request with its request id under the backtrace', () => {
    expect(spViewerDecoder.protos).toEqual(
      expect.arrayContaining(['req0', 'rep0', 'pair1', 'surveyor0', 'star']),
    );
    const e: TraceEvent = {
      seq: 0,
      tUs: 0,
      kind: 'msg-recv',
      host: 's',
      proto: 'rep0',
      msg: 'request',
      bytes: 10,
      fields: [
        { name: 'backtrace-words', offset: 0, length: 8, value: 2 },
        { name: 'request-id', offset: 4, length: 4, value: 0x80000001 },
      ],
      corr: 0x80000001,
    };
    const v = messageView(e, [spViewerDecoder])!;
    expect(v.decodedBy).toBe('sp');
    expect(v.bytes).toEqual([null, null, null, null, 0x80, 0, 0, 1, null, null]);
    expect(v.fieldsAt[5]).toEqual([0, 1]);
    expect(v.bytesNote).toMatch(/big-endian/);
  });
});
