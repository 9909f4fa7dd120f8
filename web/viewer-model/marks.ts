/**
 * The diagram's marks: glyphs on the lifelines (partial writes, losses, resets, host crashes and
 * pauses, connect errors, typed errors; drops come from the byte streams) and shaded bands (faults
 * across the plot or one host's column, hosts down on theirs).
 */
import type { TraceEvent } from '../../sim/trace.js';
import type { ViewerSpan } from '../message-decoder.js';
import type { Band, Glyph, GlyphKind, Lifeline } from './diagram.js';

type EventOf<K extends TraceEvent['kind']> = Extract<TraceEvent, { kind: K }>;

export class Marks {
  private readonly glyphs: Glyph[] = [];
  private readonly bands: Band[] = [];
  private readonly openFaults = new Map<string, { start: number; label: string; host: number }>();
  private readonly pausedSince = new Map<number, number>();

  constructor(private readonly hosts: readonly Lifeline[]) {}

  add(glyph: Glyph): void {
    this.glyphs.push(glyph);
  }

  /** A stack's span of work on host h's column; ignored when its indices are out of order. */
  span(span: ViewerSpan, h: number): void {
    if (h < 0 || span.endEvent < span.startEvent) return;
    this.bands.push({
      label: span.label,
      startEvent: span.startEvent,
      endEvent: span.endEvent,
      host: h,
      kind: 'span',
    });
  }

  partialWrite(i: number, e: EventOf<'write'>, h: number): void {
    if (e.accepted < e.offered)
      this.add({
        kind: 'partial-write',
        event: i,
        host: h,
        peer: h,
        label: `partial write: ${e.accepted} of ${e.offered} B accepted`,
      });
  }

  loss(i: number, e: EventOf<'loss'>, ends: { fromHost: number; toHost: number }): void {
    this.add({
      kind: 'loss',
      event: i,
      host: ends.fromHost,
      peer: ends.toHost,
      label: `loss: ${e.bytes} B lost ${e.retransmits}× (arrives ${e.delayUs} µs late)`,
    });
  }

  reset(i: number, e: EventOf<'reset'>, h: number): void {
    this.add({
      kind: 'reset',
      event: i,
      host: h,
      peer: h,
      label: `reset (${e.reason}), ${e.lostBytes} B lost`,
    });
  }

  host(i: number, e: EventOf<'host'>, h: number): void {
    const kinds: Partial<Record<EventOf<'host'>['state'], GlyphKind>> = {
      crashed: 'crash',
      restarted: 'restart',
      paused: 'pause',
      resumed: 'resume',
    };
    const kind = kinds[e.state];
    if (kind !== undefined) this.add({ kind, event: i, host: h, peer: h, label: `host ${e.state}` });
    if (e.state === 'paused' || e.state === 'crashed') {
      if (!this.pausedSince.has(h)) this.pausedSince.set(h, i);
    } else if (e.state === 'resumed' || e.state === 'restarted') {
      const s = this.pausedSince.get(h);
      if (s !== undefined) {
        this.bands.push({ label: this.downLabel(h), startEvent: s, endEvent: i, host: h, kind: 'pause' });
        this.pausedSince.delete(h);
      }
    }
  }

  private downLabel(h: number): string {
    return `${this.hosts[h]?.name ?? '?'} down`;
  }

  faultStart(i: number, e: EventOf<'fault-start'>, h: number): void {
    this.openFaults.set(`${e.fault}#${e.id}#${e.host ?? ''}`, {
      start: i,
      label: `${e.fault} #${e.id}${e.detail !== undefined ? ` ${e.detail}` : ''}`,
      host: h,
    });
  }

  faultEnd(i: number, e: EventOf<'fault-end'>): void {
    const key = `${e.fault}#${e.id}#${e.host ?? ''}`;
    const f = this.openFaults.get(key);
    if (f === undefined) return;
    this.bands.push({ label: f.label, startEvent: f.start, endEvent: i, host: f.host, kind: 'fault' });
    this.openFaults.delete(key);
  }

  /** Closes what never ended (faults, hosts still down) at the last event. */
  finish(last: number): void {
    for (const f of this.openFaults.values())
      this.bands.push({
        label: `${f.label} (never ended)`,
        startEvent: f.start,
        endEvent: last,
        host: f.host,
        kind: 'fault',
      });
    for (const [h, s] of this.pausedSince)
      this.bands.push({ label: this.downLabel(h), startEvent: s, endEvent: last, host: h, kind: 'pause' });
    this.openFaults.clear();
    this.pausedSince.clear();
  }

  sortedGlyphs(): Glyph[] {
    return [...this.glyphs].sort((a, b) => a.event - b.event);
  }

  sortedBands(): Band[] {
    return [...this.bands].sort((a, b) => a.startEvent - b.startEvent);
  }
}
