/** Constants of the simulated network: the salts that keep its random draws apart, ports, host aliases. */

// Salts separate the independent draws made for one segment or write index.
export const SALT_SIZE = 1;
export const SALT_PARTIAL = 2;
export const SALT_PARTIAL_LEN = 3;
export const SALT_JITTER = 4;
export const SALT_LATENCY = 8; // 8..15 for (nested) latency models
export const SALT_LOSS = 16; // 16..16+maxRetransmits for successive transmissions
export const SALT_BUFFERS = 100;

export const EPHEMERAL_PORT_FIRST = 49152;
export const EPHEMERAL_PORT_LAST = 65535;
export const LOCAL_NAMES = new Set(['localhost', '127.0.0.1', '::1']);
export const ANY_NAMES = new Set(['0.0.0.0', '*', '::']);
