/**
 * GPT-2's reversible byte ↔ unicode map: every byte gets a printable character, so a byte string
 * becomes a JSON-friendly string (space → "Ġ", newline → "Ċ"). Printable Latin-1 bytes map to
 * themselves; the other 68 go to U+0100… in byte order.
 */

export const BYTE_TO_CHAR: readonly string[] = (() => {
  const printable = (b: number) => (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
  const out: string[] = new Array(256);
  let n = 0;
  for (let b = 0; b < 256; b++) out[b] = String.fromCharCode(printable(b) ? b : 256 + n++);
  return out;
})();

export const CHAR_TO_BYTE: ReadonlyMap<string, number> = new Map(BYTE_TO_CHAR.map((c, b) => [c, b]));

const utf8 = new TextEncoder();

/** UTF-8 bytes of `text`, each written as its byte-level character. */
export function toByteLevel(text: string): string {
  let s = '';
  for (const b of utf8.encode(text)) s += BYTE_TO_CHAR[b];
  return s;
}

/** Back from byte-level characters to bytes; unknown characters are an error for the caller. */
export function fromByteLevel(token: string, out: number[]): boolean {
  for (const ch of token) {
    const b = CHAR_TO_BYTE.get(ch);
    if (b === undefined) return false;
    out.push(b);
  }
  return true;
}
