/**
 * Connection and env wrappers the echo lab composes: a connection that forwards everything (the base
 * of the taps that record what the actors do, and of the museum's planted bugs), and an env whose
 * connect and listen hand out wrapped connections. Both live beside ForwardingEnv in the runtime
 * seam (impl/runtime/env.ts), shared by every stack's lab.
 */
export { ConnWrappingEnv, ForwardingConn, type WrapConn } from '../../impl/runtime/env.js';
