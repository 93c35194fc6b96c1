import { inflateSync } from "node:zlib";

/** The text a PDF shows: its content streams inflated, the hex strings of TJ/Tj decoded. */
export function pdfText(pdf: Buffer): string {
  const raw = pdf.toString("latin1");
  let text = "";
  for (const match of raw.matchAll(/stream\r?\n([\s\S]*?)\r?\nendstream/g)) {
    let content: string;
    try {
      content = inflateSync(Buffer.from(match[1] ?? "", "latin1")).toString("latin1");
    } catch {
      continue;
    }
    for (const op of content.matchAll(/\[(.*?)\]\s*TJ/g)) {
      for (const hex of (op[1] ?? "").matchAll(/<([0-9a-fA-F]*)>/g))
        text += Buffer.from(hex[1] ?? "", "hex").toString("latin1");
      text += "\n";
    }
  }
  return text;
}
