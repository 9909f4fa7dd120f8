/**
 * The reactor stack as a lab plugin (impl/reactor/, netlab's take on cloudwego/netpoll): scenario
 * model and actors (./model.ts, ./actors.ts, ./run.ts), checks (./checks.ts), the five families
 * (./families/), the museum (./museum/), the link-buffer fuzz target (./fuzz/), "sometimes"
 * conditions, the parity suite, the benchmark (./bench/), the interop matrix against node:net and Go
 * clients (./interop/) and the viewer's decoder. See ./README.md.
 */
import type { StackPlugin } from '../stack.js';
import type { ReactorCheckContext } from './actors.js';
import { REACTOR_BENCHES } from './bench/index.js';
import { REACTOR_FAMILIES } from './families/index.js';
import { linkBufferFuzzImpls, REACTOR_LINKBUFFER } from './fuzz/linkbuffer.js';
import type { ReactorScenario } from './model.js';
import type { ReactorObservations } from './observations.js';
import { reactorInterop } from './interop/index.js';
import { REACTOR_PARITY } from './parity.js';
import { reactorCore } from './run.js';
import { REACTOR_SOMETIMES } from './sometimes.js';
import { reactorViewerDecoder } from './viewer.js';

export const reactorStack: StackPlugin<ReactorScenario, ReactorObservations, ReactorCheckContext> = {
  ...reactorCore,
  title: 'the reactor: event loops as virtual CPUs, link buffers, timeouts and backpressure (netpoll, fixed)',
  families: REACTOR_FAMILIES,
  sometimes: REACTOR_SOMETIMES,
  parity: REACTOR_PARITY,
  fuzz: { targets: [REACTOR_LINKBUFFER], impls: linkBufferFuzzImpls },
  interop: reactorInterop,
  benches: REACTOR_BENCHES,
  viewer: reactorViewerDecoder,
  protocols: () => ['reactor'],
};
