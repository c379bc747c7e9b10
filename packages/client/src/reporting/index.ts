// Building blocks for test-runner integrations (reporters, importers), kept out of the main
// entry because they use Node's worker threads.

export { type CiProvider, detectRun, type RunContext } from "./ci.js";
export { closeExecution } from "./closeExecution.js";
export {
  closeExecutionsSync,
  closeOnExit,
  type PendingClose,
  type ServerAddress,
} from "./closeOnExit.js";
export {
  DATE_RANGE,
  fitDuration,
  fitEnd,
  fitStart,
  fitTimings,
  LIMITS,
  labelOf,
  plainText,
  type Timings,
  tagsOf,
} from "./limits.js";
export {
  parseShard,
  RunJoin,
  type RunJoinOptions,
  recordExecutionInRun,
  runStartInput,
  type Shard,
} from "./run.js";
export { projectIdFrom, recordedSummary, serverAddressFrom, settledWithin } from "./runEnd.js";
export { TestCaseCatalog, testCaseKey, testCaseTitle } from "./testCases.js";
