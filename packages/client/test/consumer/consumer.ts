// Compiled by pack.test.ts in a project that installed only the packed tarball.
import {
  createTestTrackClient,
  ExecutionStatus,
  type RouterInputs,
  type RouterOutputs,
  recordExecution,
} from "@testtrack/client";

const client = createTestTrackClient({ url: "http://127.0.0.1:3000", token: "tt_example" });

export async function valid() {
  const started = await client.execution.start.mutate({
    testCaseId: 1,
    browser: "chromium",
    environment: "staging",
    triggeredBy: "ci_cd",
  });
  const id: number = started.executionId;
  const status: "pending" | "running" | "completed" | "failed" | "cancelled" = started.status;
  const stats: RouterOutputs["stats"]["get"] = await client.stats.get.query({});
  const passRate: number = stats.passRate;
  const running: string = ExecutionStatus.RUNNING;
  const run = await recordExecution(client, { testCaseId: 1 });
  run.step({ stepDescription: "Open the page", result: "pass" });
  const input: RouterInputs["execution"]["list"] = { status: "failed", limit: 10 };
  const live = createTestTrackClient({ url: "http://127.0.0.1:3000", EventSource });
  const subscription = live.execution.onSteps.subscribe(
    { executionId: id },
    {
      onData(event) {
        const cursor: string = event.id;
        const stepNumbers: number[] = event.data.steps.map((step) => step.stepNumber);
        const finished: boolean = event.data.execution.status === "completed";
        return { cursor, stepNumbers, finished };
      },
    },
  );
  subscription.unsubscribe();
  const liveStatus: RouterOutputs["execution"]["onSteps"]["data"]["execution"]["status"] =
    "running";
  return { id, status, passRate, running, run, input, liveStatus };
}

export async function invalid() {
  // @ts-expect-error a misspelled field does not compile
  await client.execution.start.mutate({ testCaseID: 1 });
  // @ts-expect-error an unknown enum value does not compile
  await client.execution.start.mutate({ testCaseId: 1, triggeredBy: "cron" });
  // @ts-expect-error a wrong status filter does not compile
  await client.execution.list.query({ status: "done" });
  const started = await client.execution.start.mutate({ testCaseId: 1 });
  // @ts-expect-error outputs are typed: executionId is a number
  const wrong: string = started.executionId;
  // @ts-expect-error unknown procedures do not exist
  await client.execution.launch.mutate({ testCaseId: 1 });
  // @ts-expect-error a subscription takes an executionId
  client.execution.onSteps.subscribe({ id: 1 }, { onData() {} });
  return wrong;
}
