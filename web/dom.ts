/** Small DOM helpers shared by the report page (web/main.ts) and the scenario viewer (web/viewer.ts). */

export type Child = Node | string | null | undefined | false;
export type Attrs = Record<string, string | number | boolean | null | undefined>;

/** Creates an element: attributes (false/null/undefined left out, true as ""), then children. */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Attrs = {},
  ...children: (Child | Child[])[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined || v === false) continue;
    if (k === 'class') el.className = String(v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.append(typeof c === 'string' ? document.createTextNode(c) : c);
  }
  return el;
}

export function byId(id: string): HTMLElement | null {
  return document.getElementById(id);
}

export function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function base64ToBytes(b64: string): Uint8Array<ArrayBuffer> {
  const bin = atob(b64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/** Inflates base64 deflate (what reports/html.ts embeds) to text, with the browser's own zlib. */
export async function inflate(b64: string): Promise<string> {
  const stream = new Blob([base64ToBytes(b64)]).stream().pipeThrough(new DecompressionStream('deflate'));
  return new Response(stream).text();
}
