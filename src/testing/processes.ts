import { readdirSync, readFileSync, readlinkSync } from "node:fs";

// Which server process is which, read from /proc (Linux): the WORKERS test and bench/scale-out.ts.

/** Pids of the processes whose parent is `pid` and that run the server (tsx's esbuild is one too). */
export function serverChildrenOf(pid: number): number[] {
  const children: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      const command = readFileSync(`/proc/${entry}/cmdline`, "utf8");
      if (ppid === pid && /main\.[jt]s\b/.test(command)) children.push(Number(entry));
    } catch {
      // The process ended while we looked.
    }
  }
  return children.sort();
}

/** The server process holding the accepted end of the TCP connection from `clientPort` to `serverPort`. */
export function ownerOfConnection(
  serverPort: number,
  clientPort: number,
  pids: number[],
): number | undefined {
  const hex = (port: number) => port.toString(16).toUpperCase().padStart(4, "0");
  const line = readFileSync("/proc/net/tcp", "utf8")
    .split("\n")
    .map((l) => l.trim().split(/\s+/))
    .find((f) => f[1]?.endsWith(`:${hex(serverPort)}`) && f[2]?.endsWith(`:${hex(clientPort)}`));
  const inode = line?.[9];
  if (!inode) return undefined;
  return pids.find((pid) => {
    try {
      return readdirSync(`/proc/${pid}/fd`).some((fd) => {
        try {
          return readlinkSync(`/proc/${pid}/fd/${fd}`) === `socket:[${inode}]`;
        } catch {
          return false;
        }
      });
    } catch {
      return false;
    }
  });
}
