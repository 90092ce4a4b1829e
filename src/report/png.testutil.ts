/** A minimal PNG reader for tests: 8-bit RGB / RGBA, not interlaced (what Chromium writes). */
import { inflateSync } from 'node:zlib';

export interface Image { width: number; height: number; channels: number; data: Uint8Array }

export function decodePng(buf: Buffer): Image {
  let pos = 8, width = 0, height = 0, channels = 0;
  const idat: Buffer[] = [];
  while (pos < buf.length) {
    const len = buf.readUInt32BE(pos), type = buf.toString('latin1', pos + 4, pos + 8), body = buf.subarray(pos + 8, pos + 8 + len);
    if (type === 'IHDR') {
      width = body.readUInt32BE(0); height = body.readUInt32BE(4);
      const depth = body[8], color = body[9], interlace = body[12];
      if (depth !== 8 || (color !== 2 && color !== 6) || interlace !== 0) throw new Error(`unsupported PNG: depth ${depth}, color type ${color}, interlace ${interlace}`);
      channels = color === 6 ? 4 : 3;
    } else if (type === 'IDAT') idat.push(body);
    else if (type === 'IEND') break;
    pos += 12 + len;
  }
  const raw = inflateSync(Buffer.concat(idat));
  const stride = width * channels, data = new Uint8Array(stride * height);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)]!, src = y * (stride + 1) + 1, row = y * stride, prev = row - stride;
    for (let i = 0; i < stride; i++) {
      const a = i >= channels ? data[row + i - channels]! : 0;                     // left
      const b = y > 0 ? data[prev + i]! : 0;                                       // up
      const c = y > 0 && i >= channels ? data[prev + i - channels]! : 0;           // up-left
      const p = a + b - c, pa = Math.abs(p - a), pb = Math.abs(p - b), pc = Math.abs(p - c);
      const pred = [0, a, b, (a + b) >> 1, pa <= pb && pa <= pc ? a : pb <= pc ? b : c][filter]!;
      data[row + i] = (raw[src + i]! + pred) & 0xff;
    }
  }
  return { width, height, channels, data };
}

/** Pixels whose color is clearly not grey (max − min channel > 60): plot marks, badges. */
export function colorfulPixels(img: Image, rows: [number, number] = [0, img.height]): number {
  let n = 0;
  for (let y = rows[0]; y < Math.min(rows[1], img.height); y++) {
    for (let x = 0; x < img.width; x++) {
      const o = (y * img.width + x) * img.channels, r = img.data[o]!, g = img.data[o + 1]!, b = img.data[o + 2]!;
      if (Math.max(r, g, b) - Math.min(r, g, b) > 60) n++;
    }
  }
  return n;
}
