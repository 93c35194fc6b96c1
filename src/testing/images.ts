import { randomBytes } from "node:crypto";
import { crc32, deflateSync } from "node:zlib";
import sharp from "sharp";

/** Real images and hostile look-alikes for the upload tests (and the file-serving benchmark). */

export async function pngImage(width: number, height: number, options: { transparent?: boolean } = {}) {
  return sharp({
    create: {
      width,
      height,
      channels: 4,
      background: options.transparent ? { r: 0, g: 0, b: 0, alpha: 0 } : { r: 40, g: 120, b: 200, alpha: 1 },
    },
  })
    .png()
    .toBuffer();
}

/** Random noise compresses badly: a real-sized JPEG for size limits. */
export async function noisyJpeg(width: number, height: number, quality = 95) {
  return sharp(randomBytes(width * height * 3), { raw: { width, height, channels: 3 } })
    .jpeg({ quality })
    .toBuffer();
}

/** A photo as phones make them: EXIF with the owner's name and the GPS position of where it was taken. */
export async function jpegWithGps(width = 640, height = 480) {
  return sharp({ create: { width, height, channels: 3, background: "#c86432" } })
    .jpeg()
    .withExif({
      IFD0: { Copyright: "Secret Owner", Artist: "Secret Owner" },
      IFD3: {
        GPSLatitudeRef: "N",
        GPSLatitude: "51/1 30/1 2607/100",
        GPSLongitudeRef: "W",
        GPSLongitude: "0/1 7/1 3956/100",
      },
    })
    .toBuffer();
}

export async function webpImage(width: number, height: number) {
  return sharp({ create: { width, height, channels: 3, background: "#22aa55" } })
    .webp()
    .toBuffer();
}

export async function gifImage() {
  return sharp({ create: { width: 10, height: 10, channels: 3, background: "#000" } })
    .gif()
    .toBuffer();
}

function pngChunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, "latin1"), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}

/**
 * A decompression bomb: a few hundred bytes of valid PNG declaring `size`×`size` pixels (grey, 8 bit)
 * whose zlib stream would inflate to `size`² bytes of zeros. Only its first rows are included: a
 * decoder that believed the header and started allocating would be the bug.
 */
export function pngBomb(size = 20_000): Buffer {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(size, 0);
  header.writeUInt32BE(size, 4);
  header[8] = 8; // bit depth
  header[9] = 0; // greyscale
  const rows = deflateSync(Buffer.alloc((size + 1) * 64));
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk("IHDR", header),
    pngChunk("IDAT", rows),
    pngChunk("IEND", Buffer.alloc(0)),
  ]);
}

export const HTML_AS_PNG = Buffer.from(
  "<!doctype html><html><body><script>fetch('/api/v1/me').then(r=>r.text()).then(alert)</script></body></html>",
);

export const SVG_WITH_SCRIPT = Buffer.from(
  '<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">' +
    '<script>alert(document.cookie)</script><rect width="10" height="10" fill="red"/></svg>',
);

/** A PNG's magic number followed by HTML: passes a naive sniff, not the decoder. */
export function pngMagicThenHtml(): Buffer {
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), HTML_AS_PNG]);
}

export type MultipartPart = {
  name: string;
  filename?: string;
  contentType?: string;
  data: Buffer | string;
};

/** A multipart/form-data body as browsers send it. */
export function multipartBody(parts: MultipartPart[]): { payload: Buffer; headers: Record<string, string> } {
  const boundary = `----gatehouse${randomBytes(8).toString("hex")}`;
  const chunks: Buffer[] = [];
  for (const part of parts) {
    const disposition = `form-data; name="${part.name}"${part.filename === undefined ? "" : `; filename="${part.filename}"`}`;
    chunks.push(
      Buffer.from(
        `--${boundary}\r\nContent-Disposition: ${disposition}\r\n${
          part.contentType ? `Content-Type: ${part.contentType}\r\n` : ""
        }\r\n`,
      ),
      Buffer.isBuffer(part.data) ? part.data : Buffer.from(part.data),
      Buffer.from("\r\n"),
    );
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return {
    payload: Buffer.concat(chunks),
    headers: { "content-type": `multipart/form-data; boundary=${boundary}` },
  };
}

/** One file in the field `file`, the shape PUT …/logo and PUT /me/avatar take. */
export function imageUpload(data: Buffer, filename = "image.png", contentType = "image/png") {
  return multipartBody([{ name: "file", filename, contentType, data }]);
}
