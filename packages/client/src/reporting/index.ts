// Building blocks for test-runner integrations (reporters, importers), kept out of the main
// entry because they use Node's worker threads.
export {
  closeExecutionsSync,
  closeOnExit,
  type PendingClose,
  type ServerAddress,
} from "./closeOnExit.js";
export { fitEnd, fitStart, LIMITS, labelOf, plainText, tagsOf } from "./limits.js";
export { recordedSummary, serverAddressFrom, settledWithin } from "./runEnd.js";
export { TestCaseCatalog, testCaseTitle } from "./testCases.js";
