// Read by generate-router-types.ts: the client-facing types of the server's router.
import type { AppRouter, RouterInputs, RouterOutputs } from "@testtrack/server/router";

/** A subscription's output is an async iterable; the client's callbacks get what it yields. */
type Yielded<T> = T extends AsyncIterable<infer Event> ? Event : T;

export type Probe = {
  inputs: RouterInputs;
  outputs: {
    [Namespace in keyof RouterOutputs]: {
      [Name in keyof RouterOutputs[Namespace]]: Yielded<RouterOutputs[Namespace][Name]>;
    };
  };
  errorShape: AppRouter["_def"]["_config"]["$types"]["errorShape"];
};
