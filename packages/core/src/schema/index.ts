export * from "./enums";
export * from "./executions";
export * from "./health";
export * from "./projects";
export * from "./rollups";
export * from "./runs";
export * from "./testCases";
export * from "./users";
