import type { ServerAddress } from "./closeOnExit.js";

/** The server a reporter records to: its options, else TESTTRACK_URL and TESTTRACK_TOKEN. */
export function serverAddressFrom(options: {
  url?: string;
  token?: string;
}): ServerAddress | undefined {
  const url = options.url ?? process.env.TESTTRACK_URL;
  const token = options.token ?? process.env.TESTTRACK_TOKEN;
  return url && token ? { url, token } : undefined;
}

/**
 * The project a reporter records into: `projectId`, else `TESTTRACK_PROJECT` (a project id),
 * else undefined (the token's project, or the user's personal one). A value that is no id is
 * reported through `warn` and left out, so the run still records.
 */
export function projectIdFrom(
  options: { projectId?: number },
  warn: (message: string) => void,
): number | undefined {
  const value = options.projectId ?? process.env.TESTTRACK_PROJECT;
  if (value === undefined || value === "") return undefined;
  const projectId = Number(value);
  if (Number.isSafeInteger(projectId) && projectId > 0) return projectId;
  warn(
    `TESTTRACK_PROJECT / projectId must be a project id (a positive number), not "${value}"; recording into the token's project`,
  );
  return undefined;
}

/** Waits for `uploads` for at most `timeoutMs`; answers false when it gave up waiting. */
export async function settledWithin(
  uploads: Promise<unknown>,
  timeoutMs: number,
): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), timeoutMs);
  });
  const settled = await Promise.race([uploads.then(() => true), timedOut]);
  clearTimeout(timer);
  return settled;
}

/** The one-line summary a reporter prints at the end of a run. */
export function recordedSummary(
  recorded: { result: string | null; status: string }[],
  uploadErrors: number,
): string {
  const count = (result: string) => recorded.filter((e) => e.result === result).length;
  const cancelled = recorded.filter((e) => e.status === "cancelled").length;
  const parts = [
    `${count("pass")} passed`,
    `${count("fail") + count("error")} failed`,
    `${count("skip")} skipped`,
    ...(cancelled ? [`${cancelled} cancelled`] : []),
  ];
  const failures = uploadErrors ? `; ${uploadErrors} could not be recorded` : "";
  return `TestTrack: recorded ${recorded.length} executions (${parts.join(", ")})${failures}`;
}
