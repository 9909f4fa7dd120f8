/**
 * Frame decoders the frame and stream targets can fuzz (--impl): netlab's own, the bug museum's
 * textbook decoder as a control (correct as it stands: the fuzzer must find nothing in it), and every
 * museum variant that swaps the frame decoder (allocation before the size check, lossy length,
 * signed length), taken from the museum itself so a new codec variant joins without an edit here.
 */
import { defaultFrameDecoderFactory, type FrameDecoderFactory } from '../../../impl/sp/core/pipe.js';
import { topology } from '../generators.js';
import { MUSEUM } from '../museum/index.js';
import { naiveDecoderFactory } from '../museum/naive-decoder.js';

export interface DecoderImpl {
  name: string;
  summary: string;
  factory: FrameDecoderFactory;
}

export const DEFAULT_IMPL = 'netlab';

let cache: Map<string, DecoderImpl> | undefined;

/** Every decoder implementation by name: netlab first, then the control, then the museum's codec variants. */
export function decoderImpls(): ReadonlyMap<string, DecoderImpl> {
  return impls();
}

function impls(): Map<string, DecoderImpl> {
  if (cache !== undefined) return cache;
  const impls = new Map<string, DecoderImpl>([
    [
      DEFAULT_IMPL,
      { name: DEFAULT_IMPL, summary: 'impl/sp/wire/frames.ts as built', factory: defaultFrameDecoderFactory },
    ],
    [
      'museum/naive-decoder',
      {
        name: 'museum/naive-decoder',
        summary: "the bug museum's textbook decoder with no bug planted (a control: nothing to find)",
        factory: naiveDecoderFactory(),
      },
    ],
  ]);
  // A variant is a codec variant when the parts it gives a socket include a frame decoder.
  const spec = topology({ pattern: 'pair0', transport: 'tcp' }).sockets[0]!;
  for (const [name, variant] of MUSEUM) {
    const factory = variant.socket?.(spec)?.socketOptions?.frameDecoder;
    if (factory !== undefined) impls.set(name, { name, summary: variant.summary, factory });
  }
  cache = impls;
  return impls;
}

/**
 * Adds a decoder implementation (your own decoder, or a planted bug in a test); the frame and
 * stream targets then take it by name. Names follow the museum's pattern; an existing name is an error.
 */
export function registerDecoderImpl(impl: DecoderImpl): void {
  const all = impls();
  if (!/^[a-z0-9][a-z0-9/_.-]*$/.test(impl.name)) throw new Error(`bad implementation name '${impl.name}'`);
  if (all.has(impl.name)) throw new Error(`implementation '${impl.name}' is already registered`);
  all.set(impl.name, impl);
}
