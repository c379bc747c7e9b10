export * from "./enums";
export * from "./executions";
export * from "./projects";
export * from "./rollups";
export * from "./testCases";
export * from "./users";
