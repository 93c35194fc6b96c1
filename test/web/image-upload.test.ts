import { describe, expect, it } from "vitest";
import { ApiError } from "../../web/src/api.js";
import {
  checkImageFile,
  formatBytes,
  MAX_IMAGE_BYTES,
  planSquare,
  sniffImage,
  uploadErrorMessage,
} from "../../web/src/image-upload.js";

const PNG = Uint8Array.from([
  0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52,
]);
const JPEG = Uint8Array.from([0xff, 0xd8, 0xff, 0xe0, 0, 16, 0x4a, 0x46, 0x49, 0x46, 0, 1, 1, 0, 0, 1]);
const WEBP = new TextEncoder().encode("RIFF\u0010\u0000\u0000\u0000WEBPVP8 ");
const text = (value: string) => new TextEncoder().encode(value.padEnd(16, " "));

describe("sniffing an image from its first bytes", () => {
  it("knows PNG, JPEG and WebP", () => {
    expect(sniffImage(PNG)).toBe("png");
    expect(sniffImage(JPEG)).toBe("jpeg");
    expect(sniffImage(WEBP)).toBe("webp");
  });

  it.each([
    ["an SVG", '<svg xmlns="http://www.w3.org/2000/svg"><script>'],
    ["HTML", "<!doctype html><script>alert(1)</script>"],
    ["a GIF", "GIF89a"],
    ["a RIFF that is not WebP (a WAV)", "RIFF\u0010\u0000\u0000\u0000WAVEfmt "],
    ["a PNG signature cut short", "\u0089PNG"],
  ])("refuses %s", (_what, head) => {
    expect(sniffImage(text(head))).toBeNull();
  });

  it("refuses empty input", () => {
    expect(sniffImage(new Uint8Array())).toBeNull();
  });
});

describe("checking a chosen file", () => {
  it("accepts a PNG within the limit whatever its name says", () => {
    expect(checkImageFile({ name: "logo.txt", size: 1000 }, PNG)).toEqual({ ok: true, kind: "png" });
    expect(checkImageFile({ name: "a.png", size: MAX_IMAGE_BYTES }, PNG)).toEqual({ ok: true, kind: "png" });
  });

  it("refuses a file over 2 MB, saying both sizes", () => {
    const check = checkImageFile({ name: "huge.png", size: MAX_IMAGE_BYTES + 1 }, PNG);
    expect(check).toEqual({ ok: false, message: "huge.png is 2 MB; images can be at most 2 MB." });
    const bigger = checkImageFile({ name: "photo.jpg", size: 5.5 * 1024 * 1024 }, JPEG);
    expect(bigger.ok === false && bigger.message).toBe("photo.jpg is 5.5 MB; images can be at most 2 MB.");
  });

  it("refuses an empty file", () => {
    expect(checkImageFile({ name: "x.png", size: 0 }, new Uint8Array())).toMatchObject({ ok: false });
  });

  it("refuses an HTML page named .png, and says why SVG is refused", () => {
    expect(checkImageFile({ name: "logo.png", size: 50 }, text("<html><script>"))).toEqual({
      ok: false,
      message: "logo.png is not a PNG, JPEG or WebP image.",
    });
    const svg = checkImageFile({ name: "logo.SVG", size: 50 }, text("<svg>"));
    expect(svg.ok === false && svg.message).toContain("SVG images can't be used");
  });
});

describe("sizes in words", () => {
  it.each([
    [0, "0 bytes"],
    [1023, "1023 bytes"],
    [1024, "1 KB"],
    [1500, "2 KB"],
    [2 * 1024 * 1024, "2 MB"],
    [2.25 * 1024 * 1024, "2.3 MB"],
  ])("%d → %s", (bytes, words) => {
    expect(formatBytes(bytes)).toBe(words);
  });
});

describe("the square preview", () => {
  it("fits a wide image inside the square, centred (contain)", () => {
    expect(planSquare(400, 200, 100, "contain")).toEqual({
      sx: 0,
      sy: 0,
      sw: 400,
      sh: 200,
      dx: 0,
      dy: 25,
      dw: 100,
      dh: 50,
    });
  });

  it("crops a tall image to its centre square (cover)", () => {
    expect(planSquare(200, 400, 100, "cover")).toEqual({
      sx: 0,
      sy: 100,
      sw: 200,
      sh: 200,
      dx: 0,
      dy: 0,
      dw: 100,
      dh: 100,
    });
  });

  it("keeps a square image whole either way", () => {
    expect(planSquare(50, 50, 100, "contain")).toMatchObject({ dx: 0, dy: 0, dw: 100, dh: 100 });
    expect(planSquare(50, 50, 100, "cover")).toMatchObject({ sx: 0, sy: 0, sw: 50, sh: 50 });
  });

  it("refuses sizes that are not positive", () => {
    expect(() => planSquare(0, 10, 100, "cover")).toThrow();
    expect(() => planSquare(10, Number.NaN, 100, "contain")).toThrow();
  });
});

describe("what a refused upload means", () => {
  it.each([
    [413, "payload_too_large", "The image is too large: at most 2 MB."],
    [415, "unsupported_media_type", "That kind of file can't be used. Choose a PNG, JPEG or WebP image."],
    [
      400,
      "invalid_image",
      "The image could not be read: it may be damaged, or not really an image. Try another file.",
    ],
  ])("%d %s", (status, code, message) => {
    expect(uploadErrorMessage(new ApiError({ status, code, detail: "server words" }))).toBe(message);
  });

  it("passes other errors through", () => {
    expect(uploadErrorMessage(new ApiError({ status: 403, code: "forbidden", detail: "Not allowed." }))).toBe(
      "Not allowed.",
    );
    expect(uploadErrorMessage(new Error("boom"))).toBe("Something went wrong. Please try again.");
  });
});
