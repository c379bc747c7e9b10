export * from "./enums";
export * from "./executions";
export * from "./rollups";
export * from "./testCases";
export * from "./users";
