/**
 * The message decoders of every stack, for the report page's scenario viewer: web/app-entry.ts
 * hands this list to the page (web/ itself imports no stack). One entry per stack; the stack
 * registry will take these over.
 */
import { spViewerDecoder } from './sp/viewer.js';

export const VIEWER_DECODERS = [spViewerDecoder] as const;
