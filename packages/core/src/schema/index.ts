export * from "./enums";
export * from "./executions";
export * from "./testCases";
export * from "./users";
