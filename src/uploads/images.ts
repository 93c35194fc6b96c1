import { createHash } from "node:crypto";
import type { Metadata, OutputInfo } from "sharp";
import { AppError } from "../http/errors.js";

export type ImageFormat = "png" | "jpeg" | "webp";

/**
 * The format the bytes say they are, from their magic numbers alone: PNG, JPEG or WebP. Anything
 * else (SVG, HTML, GIF, HEIC, a PNG name on a script) is undefined, whatever the file name or the
 * declared type said.
 */
export function sniffImage(bytes: Buffer): ImageFormat | undefined {
  if (
    bytes.length >= 8 &&
    bytes.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))
  )
    return "png";
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return "jpeg";
  if (
    bytes.length >= 12 &&
    bytes.subarray(0, 4).toString("latin1") === "RIFF" &&
    bytes.subarray(8, 12).toString("latin1") === "WEBP"
  )
    return "webp";
  return undefined;
}

/**
 * The most pixels an upload may declare. A phone photo has ~12–50 million; a "decompression bomb"
 * (a few KB of PNG claiming 20000×20000) is refused from its header, before anything is decoded.
 */
export const MAX_INPUT_PIXELS = 50_000_000;

export type ImageVariant = {
  /** Content-addressed storage key: `<hash>.<ext>`. */
  key: string;
  body: Buffer;
  contentType: string;
  width: number;
  height: number;
};

/** The fixed sizes each kind of upload is re-encoded to; the first is the one `…_url` names. */
export const IMAGE_KINDS = {
  // Logos keep their shape and transparency; PNG because mail clients show it everywhere.
  logo: {
    format: "png",
    sizes: [
      { name: "logo", width: 512, height: 512, fit: "inside" },
      { name: "logo_small", width: 128, height: 128, fit: "inside" },
    ],
  },
  // Avatars are squares filled edge to edge (people's photos: WebP is far smaller).
  avatar: {
    format: "webp",
    sizes: [
      { name: "avatar", width: 256, height: 256, fit: "cover" },
      { name: "avatar_small", width: 64, height: 64, fit: "cover" },
    ],
  },
} as const;

export type ImageKind = keyof typeof IMAGE_KINDS;

const CONTENT_TYPES = { png: "image/png", webp: "image/webp" } as const;

export function unsupportedImage(): AppError {
  return new AppError(
    "unsupported_media_type",
    "Upload a PNG, JPEG or WebP image (other formats, SVG included, are not accepted)",
  );
}

export function invalidImage(detail = "The image could not be read: it is damaged or incomplete"): AppError {
  return new AppError("invalid_image", detail);
}

/**
 * Checks an upload and re-encodes it to the kind's fixed sizes. Nothing of the original survives:
 * sharp decodes the pixels and writes new files without metadata (EXIF and its GPS position, colour
 * profiles are converted to sRGB, comments), turned upright by the EXIF orientation first. `salt`
 * (the owner's id) goes into the keys, so two owners' identical images are two files and deleting
 * one's never touches the other's.
 */
export async function processImage(bytes: Buffer, kind: ImageKind, salt: string): Promise<ImageVariant[]> {
  const sniffed = sniffImage(bytes);
  if (!sniffed) throw unsupportedImage();
  // libvips is loaded with the first upload, not when a process starts (the CLI, a worker): most never
  // decode an image, and loading it takes a tenth of a second.
  const { default: sharp } = await import("sharp");
  const options = { limitInputPixels: MAX_INPUT_PIXELS, failOn: "error" as const, sequentialRead: true };
  let metadata: Metadata;
  try {
    metadata = await sharp(bytes, options).metadata();
  } catch {
    throw invalidImage();
  }
  // The decoder must agree with the magic numbers (a JPEG header on something else is no JPEG).
  if (metadata.format !== sniffed) throw unsupportedImage();
  const { width = 0, height = 0 } = metadata;
  if (width < 1 || height < 1) throw invalidImage();
  if (width * height > MAX_INPUT_PIXELS)
    throw invalidImage(
      `The image is ${width}×${height} pixels; at most ${MAX_INPUT_PIXELS / 1_000_000} million pixels are accepted`,
    );
  const spec = IMAGE_KINDS[kind];
  const variants: ImageVariant[] = [];
  for (const size of spec.sizes) {
    let pipeline = sharp(bytes, options)
      .rotate()
      .resize({
        width: size.width,
        height: size.height,
        fit: size.fit,
        withoutEnlargement: size.fit === "inside",
      });
    pipeline =
      spec.format === "png"
        ? pipeline.png({ compressionLevel: 9, palette: false })
        : pipeline.webp({ quality: 85 });
    let output: { data: Buffer; info: OutputInfo };
    try {
      output = await pipeline.toBuffer({ resolveWithObject: true });
    } catch {
      // Found while decoding the whole image: damaged or cut-off data past a header that looked fine.
      throw invalidImage();
    }
    const hash = createHash("sha256")
      .update(salt)
      .update("\n")
      .update(output.data)
      .digest("hex")
      .slice(0, 40);
    variants.push({
      key: `${hash}.${spec.format}`,
      body: output.data,
      contentType: CONTENT_TYPES[spec.format],
      width: output.info.width,
      height: output.info.height,
    });
  }
  return variants;
}
