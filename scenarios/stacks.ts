/**
 * The stack registry: every stack the lab knows, in listing order, registered explicitly here (no
 * registration as a side effect of importing a module). The only module besides bin/ that imports
 * every stack's lab folder (a lint rule enforces it); bin/ builds its Lab from this list, and so does
 * the browser re-run bundle (web/rerun-entry.ts).
 */
import type { AnyStack } from './stack.js';
import { echoStack } from './echo/plugin.js';
import { spStack } from './sp/plugin.js';

export const STACKS: readonly AnyStack[] = [spStack, echoStack];
