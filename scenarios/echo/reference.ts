/**
 * What echo's checks hold it to, written down here (from scenarios/echo/README.md, "The protocol"),
 * not imported from impl/echo/: an oracle that reads the implementation's own constants agrees with
 * a wrong one. The lint rule netlab/independent-oracles keeps echo's checks from importing impl/echo/ values.
 */

/** Every frame starts with its payload length as a u32, big-endian. */
export const SPEC_FRAME_HEADER_BYTES = 4;
/** Largest frame payload a reader accepts unless configured otherwise: 1 MiB. */
export const SPEC_DEFAULT_MAX_FRAME_BYTES = 1024 * 1024;
/** Bytes a server keeps queued to write to one client before it stops reading from it: 256 KiB. */
export const SPEC_DEFAULT_MAX_PENDING_OUT_BYTES = 256 * 1024;
/** Requests a requester keeps outstanding at most by default. */
export const SPEC_DEFAULT_MAX_PENDING = 64;
/** The requester's first reconnect wait: 10 ms. */
export const SPEC_DEFAULT_RECONNECT_MIN_US = 10_000;
