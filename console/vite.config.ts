import { defineConfig } from "vite";
import react from "@vitejs/plugin-react";

// `npm run dev` proxies the API and the local sign-in endpoints to a local runner (make run, port 3000),
// so the page and the API share an origin as they do when the runner serves dist/ or CloudFront serves S3.
const api = process.env.CONSOLE_API ?? "http://127.0.0.1:3000";

export default defineConfig({
  plugins: [react()],
  base: "/",
  build: { outDir: "dist", emptyOutDir: true, sourcemap: false, chunkSizeWarningLimit: 900 },
  server: {
    proxy: {
      "/v1": { target: api, changeOrigin: false },
      "/local": { target: api, changeOrigin: false },
    },
  },
});
