import { useState } from "react";
import { avatarColourFor, initialsOf } from "../initials";

type Props = {
  /** Whose avatar: their initials when there is no picture (or it fails to load). */
  name: string;
  /** The picture (`/files/…`), or null. */
  url?: string | null | undefined;
  /** A stable key for the initials' colour (user id, else email). */
  colourKey: string;
  size?: "small" | "medium" | "large";
  testId?: string;
};

/**
 * A person's picture, or their initials on a coloured circle. Decorative: the name is always written
 * next to it, so it is hidden from assistive technology.
 */
export function Avatar({ name, url, colourKey, size = "medium", testId }: Props) {
  const [failed, setFailed] = useState<string | null>(null);
  const picture = url && failed !== url ? url : null;
  return (
    <span
      className={`avatar avatar-${size}${picture ? " avatar-picture" : ""}`}
      aria-hidden="true"
      data-testid={testId}
      data-avatar={picture ? "image" : "initials"}
      style={picture ? undefined : { backgroundColor: avatarColourFor(colourKey) }}
    >
      {picture ? (
        <img src={picture} alt="" referrerPolicy="no-referrer" onError={() => setFailed(picture)} />
      ) : (
        initialsOf(name)
      )}
    </span>
  );
}
