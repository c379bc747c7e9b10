/**
 * bench:artifacts — artifact upload and download throughput through the server (HTTP, the
 * local-disk store, sha256 while streaming) against copying and reading the same file on the
 * same disk directly, and the process's RSS while uploading 1 GB in total (it should stay flat:
 * nothing is buffered whole).
 *
 *   pnpm --filter @testtrack/bench bench:artifacts [--size-mb 100] [--total-mb 1024]
 */
import { randomBytes } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { parseArgs } from "node:util";
import { createTestTrackClient } from "@testtrack/client";
import { createArtifactUploader } from "@testtrack/client/artifacts";
import { createLocalDiskStore, createUser, openDatabase } from "@testtrack/core";
import { createHttpHost } from "@testtrack/server/http";
import pino from "pino";
import postgres from "postgres";

const { values: args } = parseArgs({
  options: {
    "size-mb": { type: "string", default: "100" },
    "total-mb": { type: "string", default: "1024" },
    "database-url": { type: "string" },
  },
});
const sizeMb = Number(args["size-mb"]);
const totalMb = Number(args["total-mb"]);
const PASSWORD = "bench artifacts password";
const DB = "testtrack_bench_artifacts";

const seconds = (start: bigint) => Number(process.hrtime.bigint() - start) / 1e9;
const rssMb = () => process.memoryUsage().rss / 1024 / 1024;
const discard = () =>
  new Writable({
    write(_chunk, _encoding, callback) {
      callback();
    },
  });

async function main() {
  const adminUrl =
    args["database-url"] ??
    process.env.DATABASE_URL ??
    "postgres://postgres@127.0.0.1:5432/postgres";
  const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
  await admin.unsafe(`drop database if exists ${DB} with (force)`);
  await admin.unsafe(`create database ${DB}`);
  const url = new URL(adminUrl);
  url.pathname = `/${DB}`;
  const database = openDatabase({ url: url.toString(), maxConnections: 8 });
  await database.migrate();
  const work = await mkdtemp(join(tmpdir(), "testtrack-bench-artifacts-"));
  const host = createHttpHost(
    {
      port: 0,
      host: "127.0.0.1",
      corsOrigins: [],
      maxBodyBytes: 5 * 1024 * 1024,
      maxBatchSize: 50,
      development: false,
      artifacts: {
        store: createLocalDiskStore(join(work, "store")),
        maxBytes: 2 * 1024 * 1024 * 1024,
        maxPerExecution: 10_000,
      },
    },
    database,
    pino({ level: "silent" }),
  );
  try {
    const serverUrl = await host.listen();
    await createUser(database.db, {
      email: "bench-artifacts@bench.test",
      name: "Bench artifacts",
      password: PASSWORD,
    });
    const { token } = await createTestTrackClient({ url: serverUrl }).auth.login.mutate({
      email: "bench-artifacts@bench.test",
      password: PASSWORD,
    });
    const client = createTestTrackClient({ url: serverUrl, token });
    const testCase = await client.testCase.create.mutate({ title: "Artifact bench" });
    const { executionId } = await client.execution.start.mutate({ testCaseId: testCase.id });
    const uploadArtifact = createArtifactUploader({ url: serverUrl, token });

    const source = join(work, "source.bin");
    await writeFile(source, randomBytes(sizeMb * 1024 * 1024));

    // Direct: the same bytes copied to, and read from, the same disk.
    let start = process.hrtime.bigint();
    await pipeline(createReadStream(source), createWriteStream(join(work, "copy.bin")));
    const directWrite = sizeMb / seconds(start);
    start = process.hrtime.bigint();
    await pipeline(createReadStream(join(work, "copy.bin")), discard());
    const directRead = sizeMb / seconds(start);

    start = process.hrtime.bigint();
    const artifact = await uploadArtifact(executionId, source, { name: "bench.webm" });
    const upload = sizeMb / seconds(start);
    start = process.hrtime.bigint();
    const response = await fetch(new URL(artifact.url, serverUrl));
    if (!response.body) throw new Error("no body");
    let received = 0;
    for await (const chunk of response.body) received += (chunk as Uint8Array).byteLength;
    const download = sizeMb / seconds(start);
    if (received !== artifact.size) throw new Error(`downloaded ${received} of ${artifact.size}`);

    // RSS while uploading `totalMb` in all, sampled every 50 ms after the first upload.
    const samples: number[] = [];
    const sampler = setInterval(() => samples.push(rssMb()), 50);
    const rounds = Math.max(1, Math.round(totalMb / sizeMb));
    const before = rssMb();
    start = process.hrtime.bigint();
    for (let round = 0; round < rounds; round++) {
      await uploadArtifact(executionId, source, { name: `bench-${round}.webm` });
    }
    const sustained = (rounds * sizeMb) / seconds(start);
    clearInterval(sampler);
    const spread = Math.max(...samples) - Math.min(...samples);

    const row = (name: string, server: number, direct: number) =>
      `  ${name.padEnd(9)} ${server.toFixed(0).padStart(6)} MB/s through the server, ${direct
        .toFixed(0)
        .padStart(6)} MB/s directly: ratio ${(server / direct).toFixed(2)}`;
    console.log(`bench:artifacts, ${sizeMb} MB file, local-disk store under ${work}`);
    console.log(row("upload", upload, directWrite));
    console.log(row("download", download, directRead));
    console.log(
      `  ${rounds} uploads (${rounds * sizeMb} MB): ${sustained.toFixed(0)} MB/s; RSS ${before.toFixed(0)} MB before, ${Math.min(...samples).toFixed(0)}-${Math.max(...samples).toFixed(0)} MB during (spread ${spread.toFixed(0)} MB, goal within 20 MB: ${spread <= 20 ? "met" : "not met"})`,
    );
  } finally {
    await host.close();
    await database.close();
    await admin.unsafe(`drop database if exists ${DB} with (force)`);
    await admin.end();
    await rm(work, { recursive: true, force: true });
  }
}

await main();
