import { describe, expect, it } from 'vitest';
import { echoViewerDecoder } from './viewer.js';

describe('echo message decoder', () => {
  it('re-encodes the length prefix and the request id big-endian, and nothing it cannot', () => {
    const d = echoViewerDecoder.decode({
      kind: 'msg-send',
      seq: 1,
      tUs: 0,
      proto: 'echo',
      msg: 'request',
      bytes: 12,
      fields: [
        { name: 'length', offset: 0, length: 4, value: 8 },
        { name: 'request-id', offset: 4, length: 4, value: 0x01020304 },
        { name: 'odd', offset: 8, length: 1, value: 300 },
      ],
    });
    expect(d.fields.map((f) => f.bytes)).toEqual([[0, 0, 0, 8], [1, 2, 3, 4], [null]]);
    expect(echoViewerDecoder.protos).toEqual(['echo']);
  });
});
