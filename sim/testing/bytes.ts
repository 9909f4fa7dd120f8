/**
 * Test data shared by the simulator and runtime tests (test support, not part of the model). For
 * concatenation, hex and comparison use impl/runtime/bytes.ts.
 */

/** Deterministic filler of `lengthBytes` bytes; different salts give different content. */
export function pattern(lengthBytes: number, salt: number): Uint8Array {
  const b = new Uint8Array(lengthBytes);
  for (let i = 0; i < lengthBytes; i++) b[i] = (i * 31 + salt * 7) & 0xff;
  return b;
}
