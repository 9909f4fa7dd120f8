/**
 * The echo stack as a lab plugin: a small length-prefixed echo protocol (impl/echo/), the engine's
 * own test stack and the worked example of adding one (./README.md). Everything the lab knows of
 * echo is reached from here: scenario model and actors (./model.ts, ./actors.ts, ./run.ts), checks
 * (./checks.ts), invariant families (./families/), the bug museum (./museum/), "sometimes"
 * conditions, the parity suite (./parity.ts), the fuzz target (./fuzz/), the benchmark (./bench/) and the viewer's decoder (./viewer.ts).
 */
import type { StackPlugin } from '../stack.js';
import { ECHO_BENCHES } from './bench/index.js';
import type { EchoCheckContext, EchoObservations } from './checks.js';
import { ECHO_FAMILIES } from './families/index.js';
import { ECHO_FRAME, echoFuzzImpls } from './fuzz/frame.js';
import type { EchoScenario } from './model.js';
import { ECHO_PARITY } from './parity.js';
import { echoCore } from './run.js';
import { ECHO_SOMETIMES } from './sometimes.js';
import { echoViewerDecoder } from './viewer.js';

export const echoStack: StackPlugin<EchoScenario, EchoObservations, EchoCheckContext> = {
  ...echoCore,
  title:
    'a small length-prefixed echo protocol (u32 length + payload; sessions and requesters with request ids)',
  families: ECHO_FAMILIES,
  sometimes: ECHO_SOMETIMES,
  parity: ECHO_PARITY,
  fuzz: { targets: [ECHO_FRAME], impls: echoFuzzImpls },
  benches: ECHO_BENCHES,
  viewer: echoViewerDecoder,
  protocols: () => ['echo'],
};
