import { useEffect, useRef } from "react";

/** `data-highlighted` for the row of the item a deep link names (/settings/teams/{id}), else nothing. */
export function linkedItemMark(itemId: string | null, id: string | null | undefined): "true" | undefined {
  return itemId !== null && id === itemId ? "true" : undefined;
}

/**
 * A deep link's item: once its row is on screen (`present`), scroll it into view, once per link. The
 * row marks itself with `data-highlighted="true"` (linkedItemMark), which also colours it.
 */
export function useRevealLinkedItem(itemId: string | null, present: boolean): void {
  const revealed = useRef<string | null>(null);
  useEffect(() => {
    if (itemId === null || !present || revealed.current === itemId) return;
    revealed.current = itemId;
    const row = document.querySelector<HTMLElement>('[data-highlighted="true"]');
    row?.scrollIntoView({ block: "center" });
  }, [itemId, present]);
}
