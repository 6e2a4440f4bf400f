import { defineConfig } from "vite";
import preact from "@preact/preset-vite";

// The console calls the API on its own origin (gRPC-Web). In development, and for
// `vite preview`, those paths are passed to a running `hotline serve` (HOTLINE_API,
// default http://127.0.0.1:50071).
const api = process.env.HOTLINE_API ?? "http://127.0.0.1:50071";
const proxy = {
  "^/hotline\\.v1\\.": { target: api, changeOrigin: true },
  "^/grpc\\.health\\.v1\\.": { target: api, changeOrigin: true },
};

export default defineConfig({
  plugins: [preact({ devtoolsInProd: false })],
  base: "/",
  build: {
    outDir: "dist",
    emptyOutDir: true,
    target: "es2022",
    // No source maps in the committed build: they would double its size.
    sourcemap: false,
    reportCompressedSize: false,
  },
  server: { proxy },
  preview: { proxy },
});
