import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import S3rver from "s3rver";

export type S3Server = {
  /** The endpoint, `http://127.0.0.1:<port>`. */
  endpoint: string;
  bucket: string;
  /** STORAGE_URL for a Gatehouse using this server under `prefix`. */
  storageUrl(prefix?: string): string;
  /** The credentials s3rver accepts, as the standard AWS variables. */
  env: Record<string, string>;
  close(): Promise<void>;
};

/**
 * A real S3-compatible server (s3rver) on a free port, keeping its objects in a temporary folder.
 * s3rver checks signatures against its fixed credentials; the SDK reads them from the AWS variables,
 * which this sets for the test process while the server runs.
 */
export async function startS3Server(bucket = "gatehouse-test"): Promise<S3Server> {
  const directory = mkdtempSync(join(tmpdir(), "gatehouse-s3-"));
  const server = new S3rver({
    port: 0,
    address: "127.0.0.1",
    directory,
    silent: true,
    configureBuckets: [{ name: bucket }],
  });
  const { port } = await server.run();
  const endpoint = `http://127.0.0.1:${port}`;
  const env = { AWS_ACCESS_KEY_ID: "S3RVER", AWS_SECRET_ACCESS_KEY: "S3RVER" };
  const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
  Object.assign(process.env, env);
  return {
    endpoint,
    bucket,
    env,
    storageUrl: (prefix = "files") =>
      `s3://${bucket}/${prefix}?endpoint=${encodeURIComponent(endpoint)}&region=us-east-1&force_path_style=true`,
    close: async () => {
      await server.close();
      for (const [k, v] of Object.entries(saved)) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
      rmSync(directory, { recursive: true, force: true });
    },
  };
}
