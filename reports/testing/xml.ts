/**
 * A small, strict XML 1.0 reader for tests of the JUnit writer: it rejects what real parsers
 * reject (characters outside XML's Char range, raw "<" or "&", bad entities, mismatched or
 * unclosed tags, duplicate attributes) and applies the same line-end and attribute-value
 * normalization, so an escaping bug shows up as a thrown error or a changed value. Elements,
 * attributes, text and the XML declaration only; no DTDs, comments, CDATA or namespaces.
 */

export interface XmlElement {
  name: string;
  attributes: Record<string, string>;
  children: (XmlElement | string)[];
}

const NAME = /[A-Za-z_:][A-Za-z0-9._:-]*/y;

/** True when the whole text is in XML 1.0's Char production (surrogate pairs are one char). */
function allXmlChars(text: string): boolean {
  for (const ch of text) {
    const cp = ch.codePointAt(0)!;
    const ok =
      cp === 0x9 ||
      cp === 0xa ||
      cp === 0xd ||
      (cp >= 0x20 && cp <= 0xd7ff) ||
      (cp >= 0xe000 && cp <= 0xfffd) ||
      (cp >= 0x10000 && cp <= 0x10ffff);
    if (!ok) return false;
  }
  return true;
}

const NAMED: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

function decodeEntities(raw: string, where: string): string {
  if (raw.includes('<')) throw new Error(`raw "<" in ${where}`);
  return raw.replace(/&([^;]*);|&/g, (whole, body: string | undefined) => {
    if (body === undefined) throw new Error(`bare "&" in ${where}`);
    const named = NAMED[body];
    if (named !== undefined) return named;
    const m = /^#(?:x([0-9A-Fa-f]+)|([0-9]+))$/.exec(body);
    if (m === null) throw new Error(`unknown entity ${whole} in ${where}`);
    const cp = m[1] !== undefined ? parseInt(m[1], 16) : Number(m[2]);
    const ch = String.fromCodePoint(cp);
    if (!allXmlChars(ch)) throw new Error(`character reference ${whole} to a non-XML character in ${where}`);
    return ch;
  });
}

/** Parses a whole document and returns its root element; throws on anything not well-formed. */
export function parseXml(input: string): XmlElement {
  if (!allXmlChars(input)) throw new Error('document holds a character outside the XML 1.0 Char range');
  // XML 2.11: every CRLF or lone CR is read as LF before parsing.
  const text = input.replace(/\r\n?/g, '\n');
  let pos = 0;

  const fail = (what: string): never => {
    throw new Error(`${what} at offset ${pos}: ${JSON.stringify(text.slice(pos, pos + 30))}`);
  };
  const skipSpace = (): void => {
    while (pos < text.length && ' \t\n'.includes(text[pos]!)) pos++;
  };
  const readName = (): string => {
    NAME.lastIndex = pos;
    const m = NAME.exec(text);
    if (m === null) return fail('expected a name');
    pos += m[0].length;
    return m[0];
  };

  const readElement = (): XmlElement => {
    if (text[pos] !== '<') fail('expected "<"');
    pos++;
    const el: XmlElement = { name: readName(), attributes: {}, children: [] };
    for (;;) {
      const before = pos;
      skipSpace();
      if (text.startsWith('/>', pos)) {
        pos += 2;
        return el;
      }
      if (text[pos] === '>') {
        pos++;
        break;
      }
      if (pos === before) fail('expected whitespace before an attribute');
      const attr = readName();
      skipSpace();
      if (text[pos] !== '=') fail('expected "="');
      pos++;
      skipSpace();
      const quote = text[pos];
      if (quote !== '"' && quote !== "'") return fail('expected a quoted attribute value');
      const end = text.indexOf(quote, pos + 1);
      if (end < 0) fail('unterminated attribute value');
      const raw = text.slice(pos + 1, end);
      pos = end + 1;
      if (Object.prototype.hasOwnProperty.call(el.attributes, attr)) fail(`duplicate attribute ${attr}`);
      // XML 3.3.3: literal whitespace in a value becomes a space; references keep their character.
      el.attributes[attr] = decodeEntities(raw.replace(/[\t\n]/g, ' '), `attribute ${attr}`);
    }
    for (;;) {
      const lt = text.indexOf('<', pos);
      if (lt < 0) fail(`unclosed element <${el.name}>`);
      if (lt > pos) el.children.push(decodeEntities(text.slice(pos, lt), `text of <${el.name}>`));
      pos = lt;
      if (text.startsWith('</', pos)) {
        pos += 2;
        const name = readName();
        if (name !== el.name) fail(`</${name}> closes <${el.name}>`);
        skipSpace();
        if (text[pos] !== '>') fail('expected ">"');
        pos++;
        return el;
      }
      el.children.push(readElement());
    }
  };

  if (text.startsWith('<?xml')) {
    const end = text.indexOf('?>');
    if (end < 0) fail('unterminated XML declaration');
    pos = end + 2;
  }
  skipSpace();
  const root = readElement();
  skipSpace();
  if (pos !== text.length) fail('content after the root element');
  return root;
}

/** Child elements of `el` named `name`. */
export function childElements(el: XmlElement, name: string): XmlElement[] {
  return el.children.filter((c): c is XmlElement => typeof c !== 'string' && c.name === name);
}

/** All text inside `el` (its own and its descendants'), concatenated. */
export function textOf(el: XmlElement): string {
  return el.children.map((c) => (typeof c === 'string' ? c : textOf(c))).join('');
}
