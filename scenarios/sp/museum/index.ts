/**
 * The bug museum: variants of the stack, each a real historical bug of mangos, nng, nanomsg or a
 * similar stack, composed from the real implementation through its injection points (frame decoder,
 * allocator, backoff policy, connection wrapper, protocol subclasses, forced option values), so
 * production code carries no test switches. Importing this module registers every variant with the
 * runner (`netlab run --list-impls` lists them; `--impl museum/NAME` runs one).
 */
import type { ImplVariant } from '../actors.js';
import { ALLOC_BEFORE_CHECK } from './alloc-before-check.js';
import { BEST_EFFORT_COIN_FLIP } from './best-effort-coin-flip.js';
import { BUS_RELAYS } from './bus-relays.js';
import { LINGER_IGNORED } from './linger-ignored.js';
import { LOSSY_LENGTH } from './lossy-length.js';
import { MAX_RCV_SIZE_OFF_BY_ONE } from './max-rcv-size-off-by-one.js';
import { NO_BACKOFF_CAP } from './no-backoff-cap.js';
import { NO_BACKOFF } from './no-backoff.js';
import { NO_HANDSHAKE_TIMEOUT } from './no-handshake-timeout.js';
import { PARTIAL_WRITE_DROP } from './partial-write-drop.js';
import { PUB_BLOCKS_ON_SLOW_SUB } from './pub-blocks-on-slow-sub.js';
import { PULL_DROPS } from './pull-drops.js';
import { REDIAL_AFTER_CLOSE } from './redial-after-close.js';
import { REDIAL_STORM } from './redial-storm.js';
import { REP_WRONG_PIPE } from './rep-wrong-pipe.js';
import { REQ_NEW_ID } from './req-new-id.js';
import { REQ_NO_RESEND_ON_LOSS } from './req-no-resend-on-loss.js';
import { REQ_STALE_REPLY } from './req-stale-reply.js';
import { SERIAL_HANDSHAKE } from './serial-handshake.js';
import { SIGNED_LENGTH } from './signed-length.js';
import { SURVEYOR_STALE_RESPONSE } from './surveyor-stale-response.js';
import { SUB_UNSUBSCRIBE_LEAK } from './sub-unsubscribe-leak.js';

/** Every museum variant by name ("museum/..."), in listing order: by family (framing, handshake,
 * redial, resend, backpressure). */
export const MUSEUM: ReadonlyMap<string, ImplVariant> = new Map<string, ImplVariant>([
  ['museum/lossy-length', LOSSY_LENGTH],
  ['museum/signed-length', SIGNED_LENGTH],
  ['museum/alloc-before-check', ALLOC_BEFORE_CHECK],
  ['museum/partial-write-drop', PARTIAL_WRITE_DROP],
  ['museum/no-handshake-timeout', NO_HANDSHAKE_TIMEOUT],
  ['museum/serial-handshake', SERIAL_HANDSHAKE],
  ['museum/redial-storm', REDIAL_STORM],
  ['museum/no-backoff', NO_BACKOFF],
  ['museum/no-backoff-cap', NO_BACKOFF_CAP],
  ['museum/redial-after-close', REDIAL_AFTER_CLOSE],
  ['museum/req-new-id', REQ_NEW_ID],
  ['museum/req-stale-reply', REQ_STALE_REPLY],
  ['museum/linger-ignored', LINGER_IGNORED],
  ['museum/req-no-resend-on-loss', REQ_NO_RESEND_ON_LOSS],
  ['museum/rep-wrong-pipe', REP_WRONG_PIPE],
  ['museum/surveyor-stale-response', SURVEYOR_STALE_RESPONSE],
  ['museum/best-effort-coin-flip', BEST_EFFORT_COIN_FLIP],
  ['museum/sub-unsubscribe-leak', SUB_UNSUBSCRIBE_LEAK],
  ['museum/pub-blocks-on-slow-sub', PUB_BLOCKS_ON_SLOW_SUB],
  ['museum/pull-drops', PULL_DROPS],
  ['museum/bus-relays', BUS_RELAYS],
  ['museum/max-rcv-size-off-by-one', MAX_RCV_SIZE_OFF_BY_ONE],
]);
