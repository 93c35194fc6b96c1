import type { Page } from "playwright-core";
import { expect } from "vitest";

/** Dialogs keep 12 px from each edge (styles.css); anything closer means something pushed them. */
const MIN_GAP = 8;

/**
 * The open dialog (the topmost, when one opens another) lies inside the viewport with room to
 * spare, and nothing in it is cut off sideways (scrollWidth ≤ clientWidth for the title, the header,
 * the body and the dialog itself): what
 * goes wrong when a dialog inherits a table cell's `white-space: nowrap` or a card's
 * `:last-child { margin-bottom: 0 }`.
 */
export async function expectDialogInViewport(page: Page): Promise<void> {
  const dialog = page.locator("dialog[open]").last();
  await dialog.waitFor();
  const seen = await dialog.evaluate((element) => {
    const box = element.getBoundingClientRect();
    const title = element.querySelector("h2");
    const overflow = (node: { scrollWidth: number; clientWidth: number } | null) =>
      node ? { scrollWidth: node.scrollWidth, clientWidth: node.clientWidth } : null;
    return {
      title: title?.textContent ?? "",
      box: { top: box.top, left: box.left, bottom: box.bottom, right: box.right },
      viewport: {
        width: element.ownerDocument.documentElement.clientWidth,
        height: element.ownerDocument.documentElement.clientHeight,
      },
      titleOverflow: overflow(title),
      // A title too wide for its row can also stretch the header rather than overflow itself.
      parts: [".dialog-header", ".dialog-body"].map((selector) => ({
        selector,
        ...overflow(element.querySelector(selector)),
      })),
      dialogOverflow: overflow(element),
    };
  });
  const { box, viewport } = seen;
  const where = `dialog "${seen.title}" at ${JSON.stringify(box)} in ${viewport.width}×${viewport.height}`;
  expect(box.top, where).toBeGreaterThanOrEqual(MIN_GAP);
  expect(box.left, where).toBeGreaterThanOrEqual(MIN_GAP);
  expect(viewport.height - box.bottom, where).toBeGreaterThanOrEqual(MIN_GAP);
  expect(viewport.width - box.right, where).toBeGreaterThanOrEqual(MIN_GAP);
  expect(seen.titleOverflow, `title of ${where}`).not.toBeNull();
  expect(seen.titleOverflow?.scrollWidth, `title of ${where}`).toBeLessThanOrEqual(
    seen.titleOverflow?.clientWidth ?? 0,
  );
  for (const part of [...seen.parts, { selector: "dialog", ...seen.dialogOverflow }]) {
    expect(part.scrollWidth, `${part.selector} of ${where}`).toBeLessThanOrEqual(part.clientWidth ?? 0);
  }
}
