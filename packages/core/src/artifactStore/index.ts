export * from "./localDisk";
export * from "./s3";
export * from "./store";
