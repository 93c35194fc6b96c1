import { buildNotesApp } from "./app.js";

const env = (name: string, fallback?: string) => {
  const value = process.env[name] ?? fallback;
  if (value === undefined) throw new Error(`${name} is required`);
  return value;
};

const port = Number(env("PORT", "4000"));
const notes = await buildNotesApp({
  issuer: env("GATEHOUSE_ISSUER", "http://localhost:3000/oidc"),
  clientId: env("NOTES_CLIENT_ID"),
  clientSecret: env("NOTES_CLIENT_SECRET"),
  publicUrl: env("NOTES_PUBLIC_URL", `http://localhost:${port}`),
  permission: env("NOTES_PERMISSION", "notes:publish"),
});
await notes.server.listen({ port, host: "127.0.0.1" });
console.log(`Notes on http://localhost:${port}`);
