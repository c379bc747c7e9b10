export * from "./localDisk";
export * from "./store";
