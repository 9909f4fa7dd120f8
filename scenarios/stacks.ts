/**
 * The stack registry: every stack the lab knows, in listing order, registered explicitly here (no
 * registration as a side effect of importing a module). The only module besides bin/ that imports
 * every stack's lab folder (a lint rule enforces it); bin/ builds its Lab from this list, and so does
 * the browser re-run bundle (web/rerun-entry.ts).
 */
import { echoStack } from './echo/plugin.js';
import { echoViewerDecoder } from './echo/viewer.js';
import { reactorStack } from './reactor/plugin.js';
import { reactorViewerDecoder } from './reactor/viewer.js';
import type { AnyStack, MessageDecoder } from './stack.js';
import { spStack } from './sp/plugin.js';
import { spViewerDecoder } from './sp/viewer.js';

export const STACKS: readonly AnyStack[] = [spStack, echoStack, reactorStack];

/**
 * Every stack's message decoder (StackPlugin.viewer), listed again by itself for the report page's
 * bundle (web/app-entry.ts): the page imports only this export, and the bundler leaves the rest of
 * the registry (the runner, zod, fast-check) out of it. A test checks it matches STACKS.
 */
export const VIEWER_DECODERS: readonly MessageDecoder[] = [
  spViewerDecoder,
  echoViewerDecoder,
  reactorViewerDecoder,
];
