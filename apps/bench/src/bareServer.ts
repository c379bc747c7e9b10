// The per-call baseline: node:http and the same core function, with no tRPC, no auth, no logs.
import { createServer } from "node:http";
import { openDatabase, startExecution } from "@testtrack/core";

const url = process.env.DATABASE_URL;
if (!url) throw new Error("DATABASE_URL is required");
const actor = { id: Number(process.env.BENCH_USER_ID), role: "member" as const };
const database = openDatabase({ url });

const server = createServer((req, res) => {
  if (req.method === "GET") return void res.end("ok");
  let body = "";
  req.on("data", (chunk) => {
    body += chunk;
  });
  req.on("end", () => {
    startExecution(database.db, actor, JSON.parse(body)).then(
      (result) => {
        res.setHeader("content-type", "application/json");
        res.end(JSON.stringify(result));
      },
      (error: unknown) => {
        res.statusCode = 500;
        res.end(String(error));
      },
    );
  });
});
server.listen(Number(process.env.PORT), "127.0.0.1", () => console.log("ready"));
process.on("SIGTERM", () => server.close(() => database.close().then(() => process.exit(0))));
