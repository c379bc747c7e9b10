import { fileURLToPath } from "node:url";
import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

// `pnpm dev` proxies the API to a TestTrack server (`pnpm start` in another terminal).
const apiUrl = process.env.TESTTRACK_API_URL ?? "http://127.0.0.1:3000";

export default defineConfig({
  plugins: [react()],
  resolve: {
    // The SDK's source: the dashboard builds on a fresh clone without building the SDK first.
    alias: {
      "@testtrack/client": fileURLToPath(
        new URL("../../packages/client/src/index.ts", import.meta.url),
      ),
    },
  },
  server: { proxy: { "/trpc": apiUrl, "/healthz": apiUrl } },
  build: { outDir: "dist" },
});
