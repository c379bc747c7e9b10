import type { inferRouterInputs, inferRouterOutputs } from "@trpc/server";
import { artifactRouter } from "./routers/artifact";
import { authRouter } from "./routers/auth";
import { executionRouter } from "./routers/execution";
import { healthRouter } from "./routers/health";
import { projectRouter } from "./routers/project";
import { quarantineRouter } from "./routers/quarantine";
import { retentionRouter } from "./routers/retention";
import { runRouter } from "./routers/run";
import { statsRouter } from "./routers/stats";
import { stepRouter } from "./routers/step";
import { testCaseRouter } from "./routers/testCase";
import { userRouter } from "./routers/user";
import { webhookRouter } from "./routers/webhook";
import { router } from "./trpc";

export const appRouter = router({
  auth: authRouter,
  user: userRouter,
  project: projectRouter,
  run: runRouter,
  health: healthRouter,
  quarantine: quarantineRouter,
  testCase: testCaseRouter,
  execution: executionRouter,
  artifact: artifactRouter,
  step: stepRouter,
  stats: statsRouter,
  webhook: webhookRouter,
  retention: retentionRouter,
});

export type AppRouter = typeof appRouter;
export type RouterInputs = inferRouterInputs<AppRouter>;
export type RouterOutputs = inferRouterOutputs<AppRouter>;
