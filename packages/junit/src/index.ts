export {
  type ImportOptions,
  type ImportProgress,
  type ImportSummary,
  importJUnitFiles,
  summaryLine,
} from "./importer.js";
export {
  JUnitFormatError,
  type JUnitResult,
  type JUnitTestCase,
  type JUnitWarning,
  readJUnitFile,
  titleOf,
} from "./junit.js";
