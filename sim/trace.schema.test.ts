/**
 * A trace's header schema: this netlab reads its own version only, and says why it refuses another
 * (not a netlab trace at all, or an older or newer version) in words a user can act on.
 */
import { describe, expect, it } from 'vitest';
import { TRACE_SCHEMA, traceSchemaProblem } from './trace.js';

describe('traceSchemaProblem', () => {
  it('accepts the current schema', () => {
    expect(TRACE_SCHEMA).toBe('netlab/trace@2');
    expect(traceSchemaProblem(TRACE_SCHEMA)).toBeNull();
  });

  it('refuses something that is not a netlab trace, quoting what the header said', () => {
    for (const [schema, said] of [
      ['otel/trace@2', '"otel/trace@2"'],
      ['netlab/trace@x', '"netlab/trace@x"'],
      ['my-netlab/trace@1', '"my-netlab/trace@1"'],
      ['netlab/trace@1.5', '"netlab/trace@1.5"'],
      [2, '2'],
      [undefined, 'null'],
      [null, 'null'],
    ] as const) {
      expect(traceSchemaProblem(schema)).toBe(
        `the trace's header says schema ${said}, not a netlab trace (this netlab reads "netlab/trace@2")`,
      );
    }
  });

  it('refuses an older or a newer version, naming both and how to get a readable trace', () => {
    const tail =
      'version than this netlab reads: "netlab/trace@2" (version 2). Record it again with this netlab (netlab replay, netlab run)';
    expect(traceSchemaProblem('netlab/trace@1')).toBe(
      `the trace is schema "netlab/trace@1" (version 1), an older ${tail}`,
    );
    expect(traceSchemaProblem('netlab/trace@3')).toBe(
      `the trace is schema "netlab/trace@3" (version 3), a newer ${tail}`,
    );
  });
});
