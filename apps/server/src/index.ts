export { type RunningServer, startServer } from "./app";
export { type Config, loadConfig } from "./config";
export type { AppRouter, RouterInputs, RouterOutputs } from "./router";
export { appRouter } from "./router";
export { createCallerFactory } from "./trpc";
