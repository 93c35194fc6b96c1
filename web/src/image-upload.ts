// Logo and avatar uploads: what the browser checks before sending (size, and the kind of image from the
// file's first bytes, as the server sniffs it: the name and the browser's type can lie), the geometry of
// the square preview, and what the server's refusals mean. Plain functions, so test/web checks them.
import { ApiError, describeError } from "./api.js";

/** The server's limit (PUT …/logo, PUT /me/avatar). */
export const MAX_IMAGE_BYTES = 2 * 1024 * 1024;

/** How many first bytes `sniffImage` needs. */
export const SNIFF_BYTES = 16;

/** What the file input offers; the content decides. */
export const IMAGE_ACCEPT = "image/png,image/jpeg,image/webp";

export type ImageKind = "png" | "jpeg" | "webp";

const startsWith = (bytes: Uint8Array, signature: readonly number[], at = 0) =>
  signature.every((byte, index) => bytes[at + index] === byte);

/** The kind of image the first bytes say, or null (SVG, HTML, GIF, anything else). */
export function sniffImage(head: Uint8Array): ImageKind | null {
  if (startsWith(head, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return "png";
  if (startsWith(head, [0xff, 0xd8, 0xff])) return "jpeg";
  // "RIFF" <size> "WEBP"
  if (startsWith(head, [0x52, 0x49, 0x46, 0x46]) && startsWith(head, [0x57, 0x45, 0x42, 0x50], 8))
    return "webp";
  return null;
}

/** "1.5 MB", "820 KB": sizes in the units people read. */
export function formatBytes(bytes: number): string {
  if (bytes >= 1024 * 1024) return `${(bytes / (1024 * 1024)).toFixed(1).replace(/\.0$/, "")} MB`;
  if (bytes >= 1024) return `${Math.ceil(bytes / 1024)} KB`;
  return `${bytes} bytes`;
}

export type ImageFileCheck = { ok: true; kind: ImageKind } | { ok: false; message: string };

/** Whether a chosen or dropped file can be sent: not empty, ≤ 2 MB, and really a PNG, JPEG or WebP. */
export function checkImageFile(file: { name: string; size: number }, head: Uint8Array): ImageFileCheck {
  if (file.size === 0) return { ok: false, message: `${file.name || "The file"} is empty. Choose an image.` };
  if (file.size > MAX_IMAGE_BYTES)
    return {
      ok: false,
      message: `${file.name || "The file"} is ${formatBytes(file.size)}; images can be at most ${formatBytes(MAX_IMAGE_BYTES)}.`,
    };
  const kind = sniffImage(head);
  if (!kind)
    return {
      ok: false,
      message: /\.svgz?$/i.test(file.name)
        ? "SVG images can't be used (they can carry scripts). Export the image as PNG, JPEG or WebP."
        : `${file.name || "The file"} is not a PNG, JPEG or WebP image.`,
    };
  return { ok: true, kind };
}

/** `contain`: the whole image inside the square; `cover`: the square filled, the overflow cut off. */
export type FitMode = "contain" | "cover";

export type DrawPlan = {
  /** The part of the source image drawn… */
  sx: number;
  sy: number;
  sw: number;
  sh: number;
  /** …and where in the `size`×`size` square it goes. */
  dx: number;
  dy: number;
  dw: number;
  dh: number;
};

/** Where an image of `width`×`height` goes in a `size`×`size` square (centred; never upscaled past the square). */
export function planSquare(width: number, height: number, size: number, mode: FitMode): DrawPlan {
  if (!(width > 0 && height > 0 && size > 0)) throw new Error("image and square need a size");
  if (mode === "cover") {
    const side = Math.min(width, height);
    return {
      sx: (width - side) / 2,
      sy: (height - side) / 2,
      sw: side,
      sh: side,
      dx: 0,
      dy: 0,
      dw: size,
      dh: size,
    };
  }
  const scale = size / Math.max(width, height);
  const dw = width * scale;
  const dh = height * scale;
  return { sx: 0, sy: 0, sw: width, sh: height, dx: (size - dw) / 2, dy: (size - dh) / 2, dw, dh };
}

/** What a refused upload means, in words (413, 415, 400 `invalid_image`); other errors as usual. */
export function uploadErrorMessage(error: unknown): string {
  if (error instanceof ApiError) {
    if (error.status === 413 || error.code === "payload_too_large")
      return `The image is too large: at most ${formatBytes(MAX_IMAGE_BYTES)}.`;
    if (error.status === 415 || error.code === "unsupported_media_type")
      return "That kind of file can't be used. Choose a PNG, JPEG or WebP image.";
    if (error.code === "invalid_image")
      return "The image could not be read: it may be damaged, or not really an image. Try another file.";
  }
  return describeError(error);
}
