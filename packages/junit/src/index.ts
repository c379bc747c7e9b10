export {
  type ImportOptions,
  type ImportProgress,
  type ImportSummary,
  importJUnitFiles,
  summaryLine,
  titleOf,
} from "./importer.js";
export { JUnitFormatError, type JUnitResult, type JUnitTestCase, readJUnitFile } from "./junit.js";
