import { Fragment } from "react";
import { emailParts } from "../email-parts";

/** An email address that wraps only between its parts (emailParts), never inside a word. */
export function EmailText({ email, className }: { email: string; className?: string }) {
  let at = 0;
  const parts = emailParts(email).map((text) => {
    const part = { at, text };
    at += text.length;
    return part;
  });
  return (
    <span className={className ? `email ${className}` : "email"}>
      {parts.map((part) => (
        <Fragment key={part.at}>
          {part.at > 0 ? <wbr /> : null}
          <span className="email-part">{part.text}</span>
        </Fragment>
      ))}
    </span>
  );
}
