/**
 * The SP stack as a lab plugin: the nanomsg Scalability Protocols as mangos and nng implement them
 * (impl/sp/). Everything the lab knows of SP is reached from here: scenario actors and checks
 * (./run.ts), invariant families (./families/), the bug museum (./museum/), "sometimes" conditions,
 * the parity suite (./parity.ts), fuzz targets (./fuzz/), the interop matrix (./interop/), benches
 * (./bench/).
 */
import type { StackPlugin } from '../stack.js';
import type { CheckContext, Observations } from './checks.js';
import { FAMILIES } from './families/index.js';
import type { Scenario } from './model.js';
import { SP_BENCHES } from './bench/index.js';
import { decoderImpls } from './fuzz/impls.js';
import { TARGETS } from './fuzz/index.js';
import { spInterop } from './interop/index.js';
import { SP_PARITY } from './parity.js';
import { spCore } from './run.js';
import { SP_SOMETIMES } from './sometimes.js';
import { spViewerDecoder } from './viewer.js';

export const spStack: StackPlugin<Scenario, Observations, CheckContext> = {
  ...spCore,
  title:
    'nanomsg Scalability Protocols as mangos and nng implement them (PAIR, REQ/REP, PUB/SUB, PIPELINE, SURVEY, BUS, STAR)',
  families: FAMILIES,
  sometimes: SP_SOMETIMES,
  parity: SP_PARITY,
  fuzz: { targets: [...TARGETS.values()], impls: decoderImpls },
  interop: spInterop,
  benches: SP_BENCHES,
  viewer: spViewerDecoder,
  protocols: () => [...new Set(FAMILIES.flatMap((f) => f.properties.flatMap((p) => p.protocols)))].sort(),
};
