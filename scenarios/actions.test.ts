import { describe, expect, it } from 'vitest';
import { ActionLedger, describePending } from './actions.js';
import { ENGINE_CHECKS } from './checks.js';
import type { CheckContext } from './stack.js';

const BASE: CheckContext = {
  endUs: 10,
  healedAtUs: 5,
  faults: [],
  reason: 'until',
  lossy: false,
  crash: null,
};

describe('the application action ledger', () => {
  it('keeps what began and has not ended, in order; a crashed host takes its actions with it', () => {
    const ledger = new ActionLedger();
    const a = ledger.begin('h1', 'client0', 'send #0', 1_000);
    ledger.begin('h2', 'client1', 'reply to request #0', 2_000);
    const c = ledger.begin('h1', 'client0', 'close', 3_500);
    ledger.end(a);
    ledger.end(a); // twice: harmless
    expect(ledger.pending()).toEqual([
      { actor: 'client1', what: 'reply to request #0', sinceUs: 2_000 },
      { actor: 'client0', what: 'close', sinceUs: 3_500 },
    ]);
    ledger.dropHost('h1');
    ledger.end(c); // after its host dropped it: harmless
    expect(ledger.pending().map((p) => p.actor)).toEqual(['client1']);
  });

  it('names at most five pending actions, then how many more', () => {
    const pending = Array.from({ length: 7 }, (_, i) => ({
      actor: `c${i}`,
      what: `send #${i}`,
      sinceUs: i * 1500,
    }));
    const text = describePending(pending);
    expect(text).toMatch(
      /^7 application actions never ended: c0 send #0 \(pending since 0\.000 ms\); c1 send #1/,
    );
    expect(text).toContain('c4 send #4 (pending since 6.000 ms); and 2 more');
    expect(text).not.toContain('c5');
  });
});

describe('stack.workload-completes', () => {
  const check = ENGINE_CHECKS.get('stack.workload-completes')!;
  it('fails a run that ends with an action pending, naming it; passes with none; not applicable without a ledger', () => {
    const pending = [{ actor: 'client0', what: 'reply to request #2', sinceUs: 12_500 }];
    expect(check.kind).toBe('eventually');
    expect(check.evaluate(null, null, { ...BASE, pending })).toEqual({
      status: 'fail',
      expected: 'no action pending at the end',
      actual: '1 application action never ended: client0 reply to request #2 (pending since 12.500 ms)',
    });
    expect(check.evaluate(null, null, { ...BASE, pending: [] }).status).toBe('pass');
    expect(check.evaluate(null, null, BASE).status).toBe('not-applicable');
  });
});
