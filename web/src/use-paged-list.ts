import { useCallback, useEffect, useRef, useState } from "react";
import { withQuery } from "./api";
import { explainError } from "./error-messages";
import type { Page } from "./types";
import { useApi } from "./use-api";

export type PagedList<T, P extends Page<T>> = {
  items: T[];
  /** The latest first-page answer, for what lists send besides rows (member counts). */
  head: P | null;
  hasMore: boolean;
  status: "loading" | "ready" | "error";
  error: string | null;
  loadingMore: boolean;
  loadMore(): void;
  /** Re-reads from the top, as many rows as are on screen, so "Load more" progress survives an edit. */
  reload(): void;
};

const MAX_LIMIT = 200;

/**
 * A cursor-paginated list (`?limit=&cursor=` → `{ data, next_cursor }`). `path` carries the filters;
 * a new path starts over. `null` fetches nothing.
 */
export function usePagedList<T, P extends Page<T> = Page<T>>(
  path: string | null,
  pageSize: number,
): PagedList<T, P> {
  const api = useApi();
  const [items, setItems] = useState<T[]>([]);
  const [head, setHead] = useState<P | null>(null);
  const [cursor, setCursor] = useState<string | null>(null);
  const [status, setStatus] = useState<"loading" | "ready" | "error">("loading");
  const [error, setError] = useState<string | null>(null);
  const [loadingMore, setLoadingMore] = useState(false);
  // Answers to superseded requests (filters changed meanwhile) are dropped.
  const generation = useRef(0);

  const fetchFirst = useCallback(
    async (limit: number, keepRows: boolean) => {
      const mine = ++generation.current;
      if (path === null) {
        setItems([]);
        setHead(null);
        setCursor(null);
        return;
      }
      setLoadingMore(false);
      if (!keepRows) {
        setItems([]);
        setHead(null);
        setCursor(null);
        setStatus("loading");
      }
      setError(null);
      try {
        const page = await api.get<P>(withQuery(path, { limit }));
        if (mine !== generation.current) return;
        setItems(page.data);
        setHead(page);
        setCursor(page.next_cursor ?? null);
        setStatus("ready");
      } catch (caught) {
        if (mine !== generation.current) return;
        setError(explainError(caught));
        setStatus(keepRows ? "ready" : "error");
      }
    },
    [api, path],
  );

  useEffect(() => {
    void fetchFirst(pageSize, false);
  }, [fetchFirst, pageSize]);

  const loadMore = useCallback(async () => {
    if (path === null || cursor === null) return;
    const mine = generation.current;
    setLoadingMore(true);
    setError(null);
    try {
      const page = await api.get<P>(withQuery(path, { limit: pageSize, cursor }));
      if (mine !== generation.current) return;
      setItems((current) => [...current, ...page.data]);
      setCursor(page.next_cursor ?? null);
    } catch (caught) {
      if (mine === generation.current) setError(explainError(caught));
    } finally {
      if (mine === generation.current) setLoadingMore(false);
    }
  }, [api, path, pageSize, cursor]);

  const shown = items.length;
  const reload = useCallback(() => {
    void fetchFirst(Math.min(MAX_LIMIT, Math.max(pageSize, shown)), true);
  }, [fetchFirst, pageSize, shown]);

  return {
    items,
    head,
    hasMore: cursor !== null,
    status: path === null ? "ready" : status,
    error,
    loadingMore,
    loadMore: () => void loadMore(),
    reload,
  };
}
