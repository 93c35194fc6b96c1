import { type DragEvent, useEffect, useId, useRef, useState } from "react";
import {
  checkImageFile,
  type FitMode,
  formatBytes,
  IMAGE_ACCEPT,
  MAX_IMAGE_BYTES,
  planSquare,
  SNIFF_BYTES,
  uploadErrorMessage,
} from "../image-upload";
import { ConfirmDialog } from "./confirm-dialog";
import { FormAlert } from "./form-alert";

/** The square the browser renders before sending; the server resizes again to its fixed sizes. */
const UPLOAD_SIZE = 512;
const PREVIEW_SIZE = 160;

type Props = {
  /** "logo" or "avatar": words and test ids (`<what>-file`, `<what>-upload`, `<what>-remove`…). */
  what: "logo" | "avatar";
  /** "the account's logo", "your profile picture". */
  noun: string;
  currentUrl: string | null;
  editable: boolean;
  /** The fits offered; the first is the default. Avatars are circles: crop only. */
  modes: readonly FitMode[];
  /** What removing changes, for the confirmation. */
  removeConsequence: string;
  upload: (image: Blob) => Promise<void>;
  remove: () => Promise<void>;
  /** Round preview (avatars). */
  round?: boolean;
};

type Chosen = { name: string; image: HTMLImageElement };

function readAsDataUrl(file: Blob): Promise<string> {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result));
    reader.onerror = () => reject(reader.error);
    reader.readAsDataURL(file);
  });
}

const MODE_LABELS: Record<FitMode, string> = {
  contain: "Fit the whole image",
  cover: "Crop to a square",
};

function draw(canvas: HTMLCanvasElement, image: HTMLImageElement, size: number, mode: FitMode) {
  canvas.width = size;
  canvas.height = size;
  const context = canvas.getContext("2d");
  if (!context) return;
  context.clearRect(0, 0, size, size);
  context.imageSmoothingQuality = "high";
  const plan = planSquare(image.naturalWidth, image.naturalHeight, size, mode);
  context.drawImage(image, plan.sx, plan.sy, plan.sw, plan.sh, plan.dx, plan.dy, plan.dw, plan.dh);
}

function render(image: HTMLImageElement, mode: FitMode): Promise<Blob> {
  const canvas = document.createElement("canvas");
  draw(canvas, image, UPLOAD_SIZE, mode);
  return new Promise((resolve, reject) =>
    canvas.toBlob(
      (blob) => (blob ? resolve(blob) : reject(new Error("The image could not be prepared."))),
      "image/png",
    ),
  );
}

/**
 * Choosing an image (file input or drag and drop), checked in the browser (size, and PNG/JPEG/WebP by
 * its first bytes), previewed in the square it will be shown in (fit or crop), rendered on a canvas
 * and PUT as multipart; plus removing the current one after a confirmation.
 */
export function ImagePicker({
  what,
  noun,
  currentUrl,
  editable,
  modes,
  removeConsequence,
  upload,
  remove,
  round = false,
}: Props) {
  const inputId = useId();
  const [chosen, setChosen] = useState<Chosen | null>(null);
  const [mode, setMode] = useState<FitMode>(modes[0] ?? "contain");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [dragging, setDragging] = useState(false);
  const [removing, setRemoving] = useState(false);
  const canvasRef = useRef<HTMLCanvasElement>(null);
  const inputRef = useRef<HTMLInputElement>(null);

  useEffect(() => {
    if (chosen && canvasRef.current) draw(canvasRef.current, chosen.image, PREVIEW_SIZE * 2, mode);
  }, [chosen, mode]);

  async function take(file: File | undefined) {
    if (!file) return;
    setError(null);
    const head = new Uint8Array(await file.slice(0, SNIFF_BYTES).arrayBuffer());
    const check = checkImageFile(file, head);
    if (!check.ok) {
      setChosen(null);
      setError(check.message);
      return;
    }
    const image = new Image();
    try {
      // A data: URL, not a blob: one: the server's Content-Security-Policy allows images from data:.
      image.src = await readAsDataUrl(file);
      await image.decode();
    } catch {
      setChosen(null);
      setError(`${file.name} could not be read as an image: it may be damaged. Try another file.`);
      return;
    }
    setMode(modes[0] ?? "contain");
    setChosen({ name: file.name, image });
  }

  function onDrop(event: DragEvent<HTMLDivElement>) {
    event.preventDefault();
    setDragging(false);
    if (!editable || busy) return;
    void take(event.dataTransfer.files[0]);
  }

  async function send() {
    if (!chosen) return;
    setBusy(true);
    setError(null);
    try {
      await upload(await render(chosen.image, mode));
      setChosen(null);
      if (inputRef.current) inputRef.current.value = "";
    } catch (caught) {
      setError(uploadErrorMessage(caught));
    } finally {
      setBusy(false);
    }
  }

  function cancel() {
    setChosen(null);
    setError(null);
    if (inputRef.current) inputRef.current.value = "";
  }

  return (
    <div className={`image-picker${round ? " image-picker-round" : ""}`} data-testid={`${what}-picker`}>
      <div className="image-picker-current">
        {currentUrl ? (
          <img
            src={currentUrl}
            alt={`Current ${noun}`}
            className="image-picker-image"
            data-testid={`${what}-current`}
          />
        ) : (
          <span className="image-picker-empty muted" data-testid={`${what}-none`}>
            No {noun} yet
          </span>
        )}
      </div>
      {editable ? (
        <div className="image-picker-body">
          {error ? <FormAlert testId={`${what}-error`}>{error}</FormAlert> : null}
          {chosen ? (
            <div className="image-picker-preview">
              <canvas
                ref={canvasRef}
                className="image-picker-canvas"
                width={PREVIEW_SIZE * 2}
                height={PREVIEW_SIZE * 2}
                role="img"
                aria-label={`Preview of the new ${noun} (${MODE_LABELS[mode].toLowerCase()})`}
                data-testid={`${what}-preview`}
              />
              <div className="image-picker-preview-side">
                <p className="muted break">{chosen.name}</p>
                {modes.length > 1 ? (
                  <fieldset className="field radio-list">
                    <legend>How it fits the square</legend>
                    {modes.map((option) => (
                      <div key={option} className="radio-option">
                        <input
                          id={`${inputId}-${option}`}
                          type="radio"
                          name={`${what}-fit`}
                          value={option}
                          checked={mode === option}
                          onChange={() => setMode(option)}
                          data-testid={`${what}-fit-${option}`}
                        />
                        <label htmlFor={`${inputId}-${option}`}>{MODE_LABELS[option]}</label>
                      </div>
                    ))}
                  </fieldset>
                ) : null}
                <div className="actions">
                  <button
                    type="button"
                    className="button"
                    onClick={() => void send()}
                    disabled={busy}
                    data-testid={`${what}-upload`}
                  >
                    {busy ? "Uploading…" : `Upload ${what === "logo" ? "logo" : "picture"}`}
                  </button>
                  <button type="button" className="button button-secondary" onClick={cancel} disabled={busy}>
                    Cancel
                  </button>
                </div>
              </div>
            </div>
          ) : (
            // The input is the control (keyboard, screen readers); dropping a file anywhere here works too.
            // biome-ignore lint/a11y/noStaticElementInteractions: a drop target for the pointer only; the file input inside is the control
            <div
              className={`drop-zone${dragging ? " drop-zone-active" : ""}`}
              onDragOver={(event) => {
                event.preventDefault();
                setDragging(true);
              }}
              onDragLeave={() => setDragging(false)}
              onDrop={onDrop}
              data-testid={`${what}-drop-zone`}
            >
              <label htmlFor={inputId}>
                {currentUrl ? `Replace ${noun}` : `Choose ${noun === "logo" ? "a logo" : "a picture"}`}
              </label>
              <input
                ref={inputRef}
                id={inputId}
                type="file"
                name="file"
                accept={IMAGE_ACCEPT}
                onChange={(event) => void take(event.target.files?.[0])}
                aria-describedby={`${inputId}-hint`}
                data-testid={`${what}-file`}
              />
              <p id={`${inputId}-hint`} className="field-hint">
                PNG, JPEG or WebP, at most {formatBytes(MAX_IMAGE_BYTES)}. Or drop the file here.
              </p>
            </div>
          )}
          {currentUrl && !chosen ? (
            <button
              type="button"
              className="button button-danger button-small"
              onClick={() => setRemoving(true)}
              data-testid={`${what}-remove`}
            >
              Remove {noun}
            </button>
          ) : null}
        </div>
      ) : null}
      {removing ? (
        <ConfirmDialog
          title={`Remove ${noun}?`}
          confirmLabel={`Remove ${noun}`}
          busyLabel="Removing…"
          danger
          onConfirm={remove}
          onClose={() => setRemoving(false)}
        >
          <p>{removeConsequence}</p>
        </ConfirmDialog>
      ) : null}
    </div>
  );
}
