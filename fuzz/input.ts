/**
 * What the fuzzer feeds a target: bytes, where the stream is cut into chunks, and one small integer
 * (the knob) that picks the target's configuration (a receive limit, a TTL, a protocol...). The same
 * shape is what corpus entries, seeds and crashers store on disk, as one JSON object per file, so a
 * file replays exactly. Pure: no node: imports (fuzz/io.ts reads and writes the files).
 */
import { z } from 'zod';
import { Hash64 } from '../sim/hash.js';

export interface FuzzInput {
  /** The bytes under test (a whole stream, a header, a message body: the target says). */
  readonly data: Uint8Array;
  /**
   * Chunk boundaries: sorted, distinct offsets strictly inside data. Stream targets feed
   * data[0..c0), data[c0..c1), ... as separate chunks; targets without a stream ignore them.
   */
  readonly cuts: readonly number[];
  /** Index of the target's configuration; any non-negative integer (taken modulo the target's knob count). */
  readonly knob: number;
}

export const INPUT_FORMAT = 'netlab-fuzz-input@1';

/** Largest input a file may hold, in bytes (the fuzzer's own inputs stay below --max-len). */
export const MAX_FILE_INPUT_BYTES = 1 << 20;

const hexPattern = /^(?:[0-9a-f]{2})*$/;

const inputFileSchema = z
  .object({
    format: z.literal(INPUT_FORMAT),
    target: z.string().min(1),
    impl: z.string().min(1).optional(),
    knob: z.number().int().min(0).max(0xffff),
    hex: z
      .string()
      .max(2 * MAX_FILE_INPUT_BYTES)
      .regex(hexPattern, 'must be lowercase hex, two digits per byte'),
    cuts: z.array(z.number().int().min(1)).max(4096),
    /** What went wrong (crashers only). */
    finding: z.object({ oracle: z.string(), message: z.string() }).optional(),
    /** The one-line command that replays the file (crashers only). */
    replay: z.string().optional(),
    /** Free text: why a seed or regression file exists. */
    note: z.string().optional(),
  })
  .strict();

export type InputFile = z.infer<typeof inputFileSchema>;

/** A file that is not a valid fuzz input: the message names the field. */
export class FuzzInputError extends Error {
  override readonly name = 'FuzzInputError';
  readonly code = 'ERR_BAD_FUZZ_INPUT';
}

// Hex as the input files store it (lower case), from the one bytes module.
import { fromHex, toHex } from '../impl/runtime/bytes.js';

export { fromHex, toHex };

/** Sorted, distinct cuts strictly inside (0, length): what any producer of cuts must hand over. */
export function normalizeCuts(cuts: readonly number[], length: number): number[] {
  // Insertion sort into a fresh array: cut lists are short, and this runs once per fuzz exec.
  const out: number[] = [];
  for (const c of cuts) {
    if (!(c > 0 && c < length)) continue;
    let i = out.length;
    while (i > 0 && out[i - 1]! > c) i--;
    if (out[i - 1] === c) continue;
    out.splice(i, 0, c);
  }
  return out;
}

/** The chunks `input` stands for: views of its data, in order (one chunk when there are no cuts). */
export function chunksOf(input: FuzzInput): Uint8Array[] {
  const chunks: Uint8Array[] = [];
  let at = 0;
  for (const c of input.cuts) {
    chunks.push(input.data.subarray(at, c));
    at = c;
  }
  chunks.push(input.data.subarray(at));
  return chunks;
}

/** A short stable name for an input (file names, deduplication). */
export function inputId(input: FuzzInput): string {
  const h = new Hash64();
  h.bytes(input.data);
  h.number(input.knob);
  for (const c of input.cuts) h.number(c);
  return h.hex().slice(0, 16);
}

export function inputFile(
  target: string,
  input: FuzzInput,
  extra: Pick<InputFile, 'impl' | 'finding' | 'replay' | 'note'> = {},
): InputFile {
  return {
    format: INPUT_FORMAT,
    target,
    ...(extra.impl === undefined ? {} : { impl: extra.impl }),
    knob: input.knob,
    hex: toHex(input.data),
    cuts: [...input.cuts],
    ...(extra.finding === undefined ? {} : { finding: extra.finding }),
    ...(extra.replay === undefined ? {} : { replay: extra.replay }),
    ...(extra.note === undefined ? {} : { note: extra.note }),
  };
}

/**
 * JSON text of an input file: one field per line, the cuts on one line, as prettier prints it, so
 * a crasher copied into fuzz/regressions/ passes the format check unchanged.
 */
export function inputFileText(file: InputFile): string {
  const lines = Object.entries(file).map(([key, value]) => {
    const v =
      key === 'finding'
        ? `{\n${Object.entries(value as object)
            .map(([k, x]) => `    ${JSON.stringify(k)}: ${JSON.stringify(x)}`)
            .join(',\n')}\n  }`
        : Array.isArray(value)
          ? `[${value.map((x) => JSON.stringify(x)).join(', ')}]`
          : JSON.stringify(value);
    return `  ${JSON.stringify(key)}: ${v}`;
  });
  return `{\n${lines.join(',\n')}\n}\n`;
}

/** Parses and validates a file's text; throws FuzzInputError naming the file and the bad field. */
export function parseInputFile(text: string, name: string): { file: InputFile; input: FuzzInput } {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new FuzzInputError(`${name}: not JSON (${e instanceof Error ? e.message : String(e)})`);
  }
  const parsed = inputFileSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const path = issue.path.length === 0 ? '(root)' : issue.path.map(String).join('.');
    throw new FuzzInputError(`${name}: field ${path}: ${issue.message}`);
  }
  const file = parsed.data;
  const data = fromHex(file.hex);
  const cuts = normalizeCuts(file.cuts, data.length);
  if (cuts.length !== file.cuts.length || cuts.some((c, i) => c !== file.cuts[i])) {
    throw new FuzzInputError(
      `${name}: field cuts: must be sorted, distinct offsets strictly inside the ${data.length} data bytes`,
    );
  }
  return { file, input: { data, cuts, knob: file.knob } };
}
