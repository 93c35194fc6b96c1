import { type ReactNode, useCallback, useMemo, useRef, useState } from "react";
import { type ApiClient, ApiError } from "./api";
import { ReauthDialog } from "./components/reauth-dialog";
import { ApiContext, useApi } from "./use-api";

/** Asks the user to prove it's them; resolves `true` once `POST /auth/reauth` succeeded, `false` if they gave up. */
type ConfirmIdentity = () => Promise<boolean>;

/**
 * The same client, except that a call answered 403 `reauth_required` waits for the user to
 * re-authenticate and is then sent again. Safe to repeat: the server refused it before doing anything.
 * If the user cancels, the call fails with the original `reauth_required` error.
 */
export function withReauthentication(api: ApiClient, confirmIdentity: ConfirmIdentity): ApiClient {
  async function retrying<T>(call: () => Promise<T>): Promise<T> {
    for (;;) {
      try {
        return await call();
      } catch (error) {
        if (!isReauthRequired(error) || !(await confirmIdentity())) throw error;
      }
    }
  }
  return {
    ...api,
    get: (path) => retrying(() => api.get(path)),
    post: (path, body) => retrying(() => api.post(path, body)),
    put: (path, body) => retrying(() => api.put(path, body)),
    patch: (path, body) => retrying(() => api.patch(path, body)),
    delete: (path, body) => retrying(() => api.delete(path, body)),
    upload: (path, file, options) => retrying(() => api.upload(path, file, options)),
  };
}

/** After the provider, this reaching a page means the user closed the "Confirm it's you" dialog. */
export function isReauthRequired(error: unknown): boolean {
  return error instanceof ApiError && error.code === "reauth_required";
}

/**
 * Gives everything below it (via `useApi()`) a client that handles `reauth_required` by itself,
 * so no page has to. The dialog offers the password and the second factors the user has (`GET /me/mfa`).
 */
export function ReauthProvider({ children }: { children: ReactNode }) {
  const api = useApi();
  const [open, setOpen] = useState(false);
  // Calls refused at the same time share one dialog.
  const pending = useRef<{ promise: Promise<boolean>; resolve: (confirmed: boolean) => void } | null>(null);

  const confirmIdentity = useCallback(() => {
    if (!pending.current) {
      let resolve: (confirmed: boolean) => void = () => {};
      const promise = new Promise<boolean>((settle) => {
        resolve = settle;
      });
      pending.current = { promise, resolve };
      setOpen(true);
    }
    return pending.current.promise;
  }, []);

  const finish = useCallback((confirmed: boolean) => {
    const current = pending.current;
    pending.current = null;
    setOpen(false);
    current?.resolve(confirmed);
  }, []);

  const client = useMemo(() => withReauthentication(api, confirmIdentity), [api, confirmIdentity]);

  // The dialog sits outside the wrapped client: its own call must never wait for itself.
  return (
    <>
      <ApiContext.Provider value={client}>{children}</ApiContext.Provider>
      {open ? <ReauthDialog onDone={finish} /> : null}
    </>
  );
}
