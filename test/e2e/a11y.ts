import { AxeBuilder } from "@axe-core/playwright";
import type { Page } from "playwright-core";
import { expect } from "vitest";

/**
 * Runs axe (WCAG 2.x A/AA rules and best practices) on what the page shows now — the page, or the
 * open dialog with the page behind it — and fails on any serious or critical violation, naming each
 * rule and the elements it found. Moderate and minor findings are returned for the caller to look at.
 */
export async function expectAccessible(page: Page, what: string) {
  // Colours still fading (a theme switched without a reload, a dialog opening: 150 ms transitions) would
  // be judged half-way, a contrast neither theme has: wait for every animation that ends to end.
  await page.evaluate(`Promise.all(
    document
      .getAnimations()
      .filter((a) => Number.isFinite(a.effect?.getComputedTiming().endTime ?? Infinity))
      .map((a) => a.finished.catch(() => undefined)),
  ).then(() => true)`);
  // @axe-core/playwright is typed against the `playwright` package; playwright-core's Page is the same object.
  const result = await new AxeBuilder({ page: page as never })
    .withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"])
    // A sandboxed preview (a mail as it will be sent) runs no script, so axe cannot enter it: it waits
    // forever. What it shows is a mail, not the app; the frame element itself is still checked.
    .exclude("iframe[sandbox]")
    .analyze();
  const blocking = result.violations.filter((v) => v.impact === "serious" || v.impact === "critical");
  const report = blocking
    .map(
      (v) => `${v.impact} ${v.id}: ${v.help}\n${v.nodes.map((n) => `    ${n.target.join(" ")}`).join("\n")}`,
    )
    .join("\n");
  expect(blocking, `${what}:\n${report}`).toEqual([]);
  return result.violations.filter((v) => v.impact !== "serious" && v.impact !== "critical");
}
