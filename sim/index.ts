/** Public surface of the deterministic simulator. */
export { SimError, type SimErrorCode } from './errors.js';
export { EventQueue, DEFAULT_MAX_PENDING_EVENTS } from './event-queue.js';
export { Hash64, hashValue } from './hash.js';
export { defaultYieldToHost, type YieldToHost } from './host-yield.js';
export { Rng, KeyedStream, deriveSeed } from './rng.js';
export * from './trace.js';
export * from './world.js';
