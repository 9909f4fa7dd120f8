/** Byte helpers shared by the simulator and runtime tests (test support, not part of the model). */

/** The chunks joined into one array, in order. */
export function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Deterministic filler of `lengthBytes` bytes; different salts give different content. */
export function pattern(lengthBytes: number, salt: number): Uint8Array {
  const b = new Uint8Array(lengthBytes);
  for (let i = 0; i < lengthBytes; i++) b[i] = (i * 31 + salt * 7) & 0xff;
  return b;
}
