import { readFileSync } from "node:fs";
import { expect, it } from "vitest";
import { generatedFile, generateRouterTypes } from "../scripts/generate-router-types";

it("ships router types that match the server's router (run `pnpm generate` when this fails)", () => {
  expect(readFileSync(generatedFile, "utf8")).toBe(generateRouterTypes());
});
