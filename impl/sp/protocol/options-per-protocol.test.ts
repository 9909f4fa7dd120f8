/**
 * Which options each socket type accepts beyond the core ones (RECV-DEADLINE, queues, LINGER, ...):
 * its protocol's own, as mangos lists them per protocol; any other protocol's option is refused
 * with ErrBadOption, on get and on set. (Seed-5 mutation survivors pubsub.ts:193, :374: the lists
 * passed to the socket, emptied, went unnoticed.)
 */
import { describe, expect, it } from 'vitest';
import type { Env } from '../../runtime/env.js';
import type { Socket, SocketOptions } from '../core/socket.js';
import { SpError } from '../errors.js';
import { lab } from '../testing/sim-lab.js';
import { openBus0, openXBus0 } from './bus.js';
import { openPair0, openXPair0 } from './pair0.js';
import { openPair1, openXPair1 } from './pair1.js';
import { openPull0, openPush0, openXPull0, openXPush0 } from './pipeline.js';
import { openPub0, openSub0, openXPub0, openXSub0 } from './pubsub.js';
import { openXRep0, openXReq0 } from './raw-reqrep.js';
import { openRep0 } from './rep0.js';
import { openReq0 } from './req0.js';
import { openStar, openXStar } from './star.js';
import { openRespondent0, openSurveyor0, openXRespondent0, openXSurveyor0 } from './survey.js';

/** The options that only some protocols take. */
const PROTOCOL_OPTIONS = [
  'RETRY-TIME',
  'TTL',
  'FAIL-NO-PEERS',
  'GARBAGE-CLOSES-PIPE',
  'SURVEY-TIME',
  'SUBSCRIBE',
  'UNSUBSCRIBE',
  'PREFER-NEW',
  'POLYAMOROUS',
] as const;

type Opener = (env: Env, options?: SocketOptions) => Socket;

const CASES: [string, Opener, string[]][] = [
  ['bus0', openBus0, []],
  ['xbus0', openXBus0, []],
  ['pair0', openPair0, []],
  ['xpair0', openXPair0, []],
  ['pair1', openPair1, ['TTL', 'GARBAGE-CLOSES-PIPE', 'POLYAMOROUS']],
  ['xpair1', openXPair1, ['TTL', 'GARBAGE-CLOSES-PIPE', 'POLYAMOROUS']],
  ['push0', openPush0, ['FAIL-NO-PEERS']],
  ['xpush0', openXPush0, ['FAIL-NO-PEERS']],
  ['pull0', openPull0, []],
  ['xpull0', openXPull0, []],
  ['pub0', openPub0, ['PREFER-NEW']],
  ['xpub0', openXPub0, ['PREFER-NEW']],
  ['sub0', openSub0, ['SUBSCRIBE', 'UNSUBSCRIBE', 'PREFER-NEW']],
  ['xsub0', openXSub0, ['PREFER-NEW']],
  ['req0', openReq0, ['RETRY-TIME', 'FAIL-NO-PEERS', 'GARBAGE-CLOSES-PIPE']],
  ['xreq0', openXReq0, []],
  ['rep0', openRep0, ['TTL', 'GARBAGE-CLOSES-PIPE']],
  ['xrep0', openXRep0, ['TTL']],
  ['surveyor0', openSurveyor0, ['SURVEY-TIME', 'GARBAGE-CLOSES-PIPE']],
  ['xsurveyor0', openXSurveyor0, []],
  ['respondent0', openRespondent0, ['TTL', 'GARBAGE-CLOSES-PIPE']],
  ['xrespondent0', openXRespondent0, ['TTL']],
  ['star', openStar, ['TTL']],
  ['xstar', openXStar, ['TTL']],
];

function errorOf(fn: () => unknown): string {
  try {
    fn();
    return 'ok';
  } catch (e) {
    return e instanceof SpError ? e.code : `non-SpError: ${String(e)}`;
  }
}

describe('protocol options per socket type', () => {
  for (const [name, open, own] of CASES) {
    it(`${name} accepts ${own.length === 0 ? 'no protocol option' : own.join(', ')}`, async () => {
      const { a } = lab(`options-${name}`);
      const s = open(a);
      const accepted = PROTOCOL_OPTIONS.filter((o) => errorOf(() => s.getOption(o)) === 'ok');
      expect(accepted).toEqual(PROTOCOL_OPTIONS.filter((o) => own.includes(o)));
      for (const o of PROTOCOL_OPTIONS.filter((x) => !own.includes(x))) {
        expect(() => s.setOption(o, 1)).toThrow(`ErrBadOption: option ${o} is not supported by this socket`);
      }
      // The core options stay open to every protocol.
      s.setOption('RECV-DEADLINE', 5);
      expect(s.getOption('RECV-DEADLINE')).toBe(5);
      await s.close();
    });
  }
});
