import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

/**
 * The operator console: Preact through esbuild's automatic JSX runtime (no Babel), served under /console/
 * (locally by the HTTP API, on AWS by CloudFront from a private bucket). The page calls relative /api/... URLs.
 */
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/console/',
  esbuild: { jsx: 'automatic', jsxImportSource: 'preact' },
  build: { outDir: 'dist', emptyOutDir: true, target: 'es2022', sourcemap: false, reportCompressedSize: false },
  test: {
    environment: 'happy-dom',
    include: ['test/**/*.test.tsx', 'test/**/*.test.ts'],
  },
});
