import { useCallback, useEffect, useState } from "react";
import { describeError } from "./api";
import { useApi } from "./use-api";

export type Resource<T> = {
  /** Undefined until the first answer (and while `path` is null). */
  data: T | undefined;
  error: string | null;
  loading: boolean;
  /** Fetches again, keeping the current data on screen meanwhile. */
  reload(): void;
};

/** GETs `path` and keeps the answer; `null` means "not allowed / not needed": nothing is fetched. */
export function useResource<T>(path: string | null): Resource<T> {
  const api = useApi();
  const [attempt, setAttempt] = useState(0);
  const [state, setState] = useState<{ path: string | null; data: T | undefined; error: string | null }>({
    path: null,
    data: undefined,
    error: null,
  });
  const [loading, setLoading] = useState(path !== null);

  useEffect(() => {
    void attempt; // a bump from reload() re-runs this effect
    if (path === null) {
      setState({ path: null, data: undefined, error: null });
      setLoading(false);
      return;
    }
    let cancelled = false;
    setLoading(true);
    api.get<T>(path).then(
      (data) => {
        if (cancelled) return;
        setState({ path, data, error: null });
        setLoading(false);
      },
      (error: unknown) => {
        if (cancelled) return;
        // Keep showing what we had for the same path; a different path starts empty.
        setState((current) => ({
          path,
          data: current.path === path ? current.data : undefined,
          error: describeError(error),
        }));
        setLoading(false);
      },
    );
    return () => {
      cancelled = true;
    };
  }, [api, path, attempt]);

  const reload = useCallback(() => setAttempt((count) => count + 1), []);
  const fresh = state.path === path;
  return {
    data: fresh ? state.data : undefined,
    error: fresh ? state.error : null,
    loading: loading || (!fresh && path !== null),
    reload,
  };
}
