/**
 * nanomsg#461/#459: a bogus u64 size in a frame header went straight to malloc before any receive
 * limit existed; here the limit exists but is vetted after the body buffer is allocated, so a peer
 * announcing a huge length makes the receiver ask for that much memory before the pipe is closed.
 */
import type { ImplVariant } from '../actors.js';
import { naiveDecoderFactory } from './naive-decoder.js';

export const ALLOC_BEFORE_CHECK: ImplVariant = {
  summary:
    'nanomsg#461: the frame body is allocated from the announced length before the receive limit is checked',
  family: 'framing',
  socket: () => ({ socketOptions: { frameDecoder: naiveDecoderFactory({ allocBeforeVet: true }) } }),
};
