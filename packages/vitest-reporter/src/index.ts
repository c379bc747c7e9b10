export { TestTrackReporter as default, type TestTrackReporterOptions } from "./reporter.js";
