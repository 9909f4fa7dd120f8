/**
 * The message pane: the selected msg-send / msg-recv with the fields its stack's decoder found
 * (web/message-decoder.ts) over a hex dump; hovering a field lights its bytes and a byte its fields.
 */
import type { TraceEvent } from '../../sim/trace.js';
import { h } from '../dom.js';
import { formatUs } from '../model.js';
import { messageView, type MessageView } from '../viewer-model.js';
import type { ViewerState } from './shared.js';

function fieldsTable(mv: MessageView): HTMLElement {
  return h(
    'table',
    { class: 'fields-table' },
    h(
      'thead',
      {},
      h('tr', {}, h('th', {}, 'field'), h('th', {}, 'offset'), h('th', {}, 'length'), h('th', {}, 'value')),
    ),
    h(
      'tbody',
      {},
      ...mv.fields.map((f, fi) =>
        h(
          'tr',
          { 'data-field-index': fi, class: 'field' },
          h('td', {}, f.name),
          h('td', { class: 'num' }, String(f.offset)),
          h('td', { class: 'num' }, String(f.length)),
          h('td', {}, String(f.value)),
        ),
      ),
    ),
  );
}

function hexDump(mv: MessageView): HTMLElement {
  const dump = h('div', { class: 'hexdump' });
  for (let row = 0; row < mv.bytes.length; row += 16) {
    const line = h(
      'div',
      { class: 'hexrow' },
      h('span', { class: 'off' }, row.toString(16).padStart(4, '0')),
    );
    for (let k = row; k < Math.min(row + 16, mv.bytes.length); k++) {
      const v = mv.bytes[k]!;
      line.append(
        h(
          'span',
          {
            class: `byte${v === null ? ' unknown' : ''}${mv.fieldsAt[k]!.length > 0 ? ' in-field' : ''}`,
            'data-byte': k,
          },
          v === null ? '··' : v.toString(16).padStart(2, '0'),
        ),
      );
    }
    dump.append(line);
  }
  return dump;
}

/** What the dump shows and where its bytes come from. */
function bytesNote(mv: MessageView, proto: string): string {
  const truncated =
    mv.length > mv.bytes.length ? ` (first ${mv.bytes.length} of ${mv.length} bytes shown)` : '';
  const source =
    mv.decodedBy === null
      ? `no stack's decoder handles ${proto}, so every byte is unknown`
      : `the ${mv.decodedBy} decoder rebuilt what it could: ${mv.bytesNote ?? 'field bytes from their values'}`;
  return `This trace records lengths and decoded fields, not raw bytes: ${source}; ·· marks bytes the trace does not carry${truncated}. Hover a field or a byte to see which is which.`;
}

/** Field rows light their bytes, bytes light their fields. */
function linkHover(pane: HTMLElement, mv: MessageView): void {
  const highlight = (fields: number[], on: boolean): void => {
    for (const fi of fields) {
      pane.querySelector(`tr[data-field-index="${fi}"]`)?.classList.toggle('hl', on);
      const f = mv.fields[fi]!;
      for (let k = f.offset; k < f.offset + f.length; k++)
        pane.querySelector(`span[data-byte="${k}"]`)?.classList.toggle('hl', on);
    }
  };
  pane.querySelectorAll<HTMLElement>('tr[data-field-index]').forEach((tr) => {
    const fi = Number(tr.dataset.fieldIndex);
    tr.addEventListener('mouseenter', () => highlight([fi], true));
    tr.addEventListener('mouseleave', () => highlight([fi], false));
  });
  pane.querySelectorAll<HTMLElement>('span[data-byte]').forEach((sp) => {
    const fields = mv.fieldsAt[Number(sp.dataset.byte)] ?? [];
    sp.addEventListener('mouseenter', () => {
      sp.classList.add('hl');
      highlight(fields, true);
    });
    sp.addEventListener('mouseleave', () => {
      sp.classList.remove('hl');
      highlight(fields, false);
    });
  });
}

function renderMessage(pane: HTMLElement, e: TraceEvent, mv: MessageView): void {
  if (e.kind !== 'msg-send' && e.kind !== 'msg-recv') return;
  const dir = mv.direction;
  pane.className = `msg-pane ${dir}`;
  pane.replaceChildren(
    h(
      'p',
      { class: 'msg-head' },
      h('span', { class: `dir ${dir}` }, dir === 'tx' ? 'TX' : 'RX'),
      ` ${e.kind} #${e.seq} · ${e.host ?? '?'} · ${e.proto} ${e.msg} · ${e.bytes} B · ${formatUs(e.tUs)}`,
    ),
    fieldsTable(mv),
    hexDump(mv),
    h('p', { class: 'muted note' }, bytesNote(mv, e.proto)),
  );
  linkHover(pane, mv);
}

export function mountMessagePane(state: ViewerState): HTMLElement {
  const pane = h('section', { class: 'msg-pane', 'aria-label': 'Message' });
  const render = (): void => {
    if (state.selectedMsg === null) {
      pane.replaceChildren(
        h(
          'p',
          { class: 'muted' },
          `No message selected: step to a msg-send / msg-recv (${state.model.messages.length} in this trace; n / p jump between them).`,
        ),
      );
      return;
    }
    const e = state.events[state.selectedMsg]!;
    const mv = messageView(e, state.ctx.decoders);
    if (mv !== null) renderMessage(pane, e, mv);
  };
  state.onCursor(render);
  return pane;
}
