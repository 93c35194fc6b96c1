// The active account's branding, shared by the Branding page and the shell (which paints primary
// buttons in the account's colour).
import { useEffect, useState } from "react";

const BRANDING_CHANGED = "gatehouse:branding-changed";

/** After saving branding (or a logo, or the name): the shell and previews read it again. */
export function announceBrandingChange(): void {
  window.dispatchEvent(new Event(BRANDING_CHANGED));
}

/** A counter that moves on every `announceBrandingChange()`: a dependency that re-reads branding. */
export function useBrandingVersion(): number {
  const [version, setVersion] = useState(0);
  useEffect(() => {
    const bump = () => setVersion((count) => count + 1);
    window.addEventListener(BRANDING_CHANGED, bump);
    return () => window.removeEventListener(BRANDING_CHANGED, bump);
  }, []);
  return version;
}
