import { SMTPServer } from "smtp-server";

/** One received message: envelope recipient, subject, and its decoded text and HTML parts. */
export type RawMail = { to: string; subject: string; text: string; html: string; raw: string };

/**
 * A real SMTP peer that keeps whole messages, HTML part included (the harness's sink keeps the text
 * part only). A test points the app at it with `SMTP_URL`.
 */
export async function startRawMailSink() {
  const mails: RawMail[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ["STARTTLS"],
    logger: false,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on("data", (chunk: Buffer) => chunks.push(chunk));
      stream.on("end", () => {
        const raw = Buffer.concat(chunks).toString("utf8");
        const to = session.envelope.rcptTo.map((recipient) => recipient.address).join(",");
        mails.push({ to, raw, ...readMessage(raw) });
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.server.address() as { port: number }).port;
  return {
    url: `smtp://127.0.0.1:${port}`,
    mails,
    /** The newest mail to `to` whose subject matches, waiting for it to arrive. */
    async next(to: string, subject: RegExp, timeoutMs = 10_000): Promise<RawMail> {
      const until = Date.now() + timeoutMs;
      while (Date.now() < until) {
        const mail = [...mails]
          .reverse()
          .find((m) => m.to.toLowerCase() === to.toLowerCase() && subject.test(m.subject));
        if (mail) return mail;
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
      throw new Error(
        `no mail to ${to} matching ${subject}; got: ${mails.map((m) => `${m.to} "${m.subject}"`).join("; ")}`,
      );
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

function decodeWords(value: string): string {
  // RFC 2047 encoded words (nodemailer writes non-ASCII subjects this way).
  return value.replace(/=\?utf-8\?([bq])\?([^?]*)\?=/gi, (_all, kind: string, body: string) =>
    kind.toLowerCase() === "b"
      ? Buffer.from(body, "base64").toString("utf8")
      : Buffer.from(
          body
            .replace(/_/g, " ")
            .replace(/=([0-9a-f]{2})/gi, (_m, hex: string) => String.fromCharCode(Number.parseInt(hex, 16))),
          "latin1",
        ).toString("utf8"),
  );
}

function decodeBody(body: string, headers: string): string {
  if (/content-transfer-encoding:\s*quoted-printable/i.test(headers)) {
    return Buffer.from(
      body
        .replace(/=\r?\n/g, "")
        .replace(/=([0-9A-F]{2})/gi, (_m, hex: string) => String.fromCharCode(Number.parseInt(hex, 16))),
      "latin1",
    ).toString("utf8");
  }
  if (/content-transfer-encoding:\s*base64/i.test(headers))
    return Buffer.from(body.replace(/\s+/g, ""), "base64").toString("utf8");
  return body;
}

/** Enough MIME for nodemailer's messages: the subject and the text/plain and text/html parts, decoded. */
function readMessage(raw: string): { subject: string; text: string; html: string } {
  const unfolded = (raw.split(/\r?\n\r?\n/, 1)[0] ?? "").replace(/\r?\n[ \t]+/g, " ");
  const subject = decodeWords(/^Subject: (.*)$/im.exec(unfolded)?.[1]?.trim() ?? "");
  const part = (type: string) => {
    const match = new RegExp(
      `(Content-Type: ${type}[\\s\\S]*?)\\r?\\n\\r?\\n([\\s\\S]*?)(?:\\r?\\n--|$)`,
      "i",
    ).exec(raw);
    return match ? decodeBody(match[2] ?? "", match[1] ?? "") : "";
  };
  return { subject, text: part("text/plain"), html: part("text/html") };
}
