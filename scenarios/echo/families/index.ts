/** The echo stack's invariant families, in report order. */
import type { FamilySpec } from '../../catalog.js';
import type { EchoScenario } from '../model.js';
import { ECHO_FRAMING } from './framing.js';
import { ECHO_REQREP } from './reqrep.js';

export const ECHO_FAMILIES: readonly FamilySpec<EchoScenario>[] = [ECHO_FRAMING, ECHO_REQREP];
