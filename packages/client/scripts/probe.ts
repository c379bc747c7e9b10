// Read by generate-router-types.ts: the client-facing types of the server's router.
import type { AppRouter, RouterInputs, RouterOutputs } from "@testtrack/server/router";

export type Probe = {
  inputs: RouterInputs;
  outputs: RouterOutputs;
  errorShape: AppRouter["_def"]["_config"]["$types"]["errorShape"];
};
