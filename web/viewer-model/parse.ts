/** Reading a trace file (netlab/trace JSON lines) for the viewer: the header, the events, bad lines. */
import { traceSchemaProblem, type TraceEvent } from '../../sim/trace.js';

export interface ParsedTrace {
  header: Record<string, unknown> | null;
  events: TraceEvent[];
  /** Lines that were not JSON objects with a kind and a numeric tUs (a corrupt or truncated file). */
  badLines: number;
}

/** A trace of another schema version: the viewer refuses it, naming the version it has and the one it reads. */
export class TraceSchemaError extends Error {
  override readonly name = 'TraceSchemaError';
}

/**
 * Parses JSON lines; bad lines are counted, not fatal (the viewer shows what it can). A header of
 * another schema (an older netlab's trace) throws TraceSchemaError: its events would be misread.
 */
export function parseTrace(text: string): ParsedTrace {
  let header: Record<string, unknown> | null = null;
  const events: TraceEvent[] = [];
  let badLines = 0;
  let first = true;
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    let v: unknown;
    try {
      v = JSON.parse(line);
    } catch {
      badLines++;
      continue;
    }
    const isFirst = first;
    first = false;
    if (typeof v !== 'object' || v === null || Array.isArray(v)) {
      badLines++;
      continue;
    }
    const o = v as Record<string, unknown>;
    if (isFirst && typeof o.schema === 'string') {
      const problem = traceSchemaProblem(o.schema);
      if (problem !== null) throw new TraceSchemaError(`The viewer cannot open this trace: ${problem}.`);
      header = o;
      continue;
    }
    if (typeof o.kind !== 'string' || typeof o.tUs !== 'number') {
      badLines++;
      continue;
    }
    events.push(o as unknown as TraceEvent);
  }
  return { header, events, badLines };
}
