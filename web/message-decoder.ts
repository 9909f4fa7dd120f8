/**
 * The message pane's decoder interface: how a stack tells the viewer what the bytes of its messages
 * are. Stack-neutral on purpose: web/ knows no stack; each stack's lab folder exports a decoder
 * (SP's: scenarios/sp/viewer.ts) and the page's bootstrap hands the list to the viewer
 * (scenarios/stacks.ts VIEWER_DECODERS, web/app-entry.ts). The types live with the StackPlugin
 * interface (scenarios/stack.ts): a stack's decoder is part of its plugin.
 */
export type {
  DecodedField,
  DecodedMessage,
  MessageDecoder,
  MessageEvent,
  ViewerSpan,
} from '../scenarios/stack.js';
