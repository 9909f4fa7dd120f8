/**
 * The scenario viewer's model, without the DOM: a trace (netlab/trace@2 JSON lines) turned into what
 * the viewer draws and shows — host lifelines, one arrow per delivered chunk from the write that sent
 * its first byte (slope = latency; inproc messages from send to receipt), each with its connection,
 * glyphs for partial writes, losses, resets, drops and host crashes, shaded bands for faults and host
 * pauses — plus the filter across the panes, layouts that put two traces on one time axis, the
 * per-host state at an event, the decoded bytes of a message, the failure pin and a Chrome Trace
 * Event export. Pure functions over arrays, so vitest tests them in Node and the page
 * (web/viewer.ts) only renders; everything the canvas needs per frame is precomputed into typed
 * arrays (100 k events stay smooth). Reads typed trace fields only. One module per section under
 * web/viewer-model/; this file re-exports them.
 */
export type { TraceEvent, TraceField } from '../sim/trace.js';
export * from './viewer-model/parse.js';
export * from './viewer-model/diagram.js';
export * from './viewer-model/filter.js';
export * from './viewer-model/layout.js';
export * from './viewer-model/pin.js';
export * from './viewer-model/state.js';
export * from './viewer-model/message.js';
export * from './viewer-model/describe.js';
export * from './viewer-model/chrome.js';
export * from './viewer-model/knobs.js';
export * from './viewer-model/params.js';
