import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { createApiClient } from "./api";
import { App } from "./app";
import { applyAppearance, restoreAppearance } from "./appearance";
import { ToastProvider } from "./components/toast";
import { PermissionsProvider } from "./permissions-provider";
import { PreferencesProvider } from "./preferences-provider";
import { ReauthProvider } from "./reauth-provider";
import { SessionProvider } from "./session-provider";
import { ApiContext } from "./use-api";
import "./styles.css";

// Paint in the remembered theme before the session and preferences arrive.
applyAppearance(restoreAppearance());

const root = document.getElementById("root");
if (!root) throw new Error("index.html has no #root element");

createRoot(root).render(
  <StrictMode>
    <ApiContext.Provider value={createApiClient()}>
      <SessionProvider>
        <ReauthProvider>
          <PreferencesProvider>
            <PermissionsProvider>
              <ToastProvider>
                <a className="skip-link" href="#main">
                  Skip to content
                </a>
                <App />
              </ToastProvider>
            </PermissionsProvider>
          </PreferencesProvider>
        </ReauthProvider>
      </SessionProvider>
    </ApiContext.Provider>
  </StrictMode>,
);
