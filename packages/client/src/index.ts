export {
  createTestTrackClient,
  type EventSourceClass,
  errorCode,
  isTransientError,
  MAX_BATCH_ITEMS,
  MAX_URL_LENGTH,
  type RouterInputs,
  type RouterOutputs,
  type TestTrackClient,
  type TestTrackClientOptions,
  TRPCClientError,
  trpcEndpoint,
} from "./client.js";
export {
  type AppRouter,
  type ErrorShape,
  ExecutionResult,
  ExecutionStatus,
  TriggeredBy,
} from "./generated/appRouter.js";
export {
  type ExecutionRun,
  type FinishOptions,
  type RecordExecutionOptions,
  type RecordedStep,
  RecorderError,
  type RetryOptions,
  recordExecution,
  withRetry,
} from "./recorder.js";
