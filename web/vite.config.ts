import { fileURLToPath } from "node:url";
import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

// The config is run from the repo root (`vite build --config web/vite.config.ts`),
// so every path is anchored to this file rather than to the working directory.
const webDir = fileURLToPath(new URL(".", import.meta.url));
const apiServer = "http://127.0.0.1:8080";

export default defineConfig({
  root: webDir,
  plugins: [react()],
  build: {
    outDir: fileURLToPath(new URL("./dist", import.meta.url)),
    emptyOutDir: true,
    // The password-strength dictionaries (English: 1.2 MB) are chunks of their own, fetched only
    // once someone types a new password; the main bundle stays far below this.
    chunkSizeWarningLimit: 1300,
  },
  server: {
    proxy: {
      "/api": apiServer,
      "/dev": apiServer,
      "/healthz": apiServer,
    },
  },
});
