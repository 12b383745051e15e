import { resolve } from 'node:path';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vitest/config';

/** One page per Connect module, built into the host's static files under /app/ (hashed assets, cached long). */
export const pages = ['issue-view', 'organization-panel', 'portal-profile', 'portal-request', 'directory', 'configuration'];

export default defineConfig({
  base: '/app/',
  plugins: [react()],
  resolve: {
    alias: {
      // Never initialized inside a Connect iframe: every gate is off either way (see the stub's comment).
      '@atlaskit/feature-gate-js-client/feature-gates': resolve(import.meta.dirname, 'src/feature-gates-off.ts'),
    },
  },
  build: {
    outDir: resolve(import.meta.dirname, '../src/ConnectApp/wwwroot/app'),
    emptyOutDir: true,
    target: 'es2022',
    reportCompressedSize: false,
    rollupOptions: {
      input: Object.fromEntries(pages.map((p) => [p, resolve(import.meta.dirname, `${p}.html`)])),
    },
  },
  test: {
    include: ['test/**/*.test.ts'],
    // Compiling the published Forge manifest schema (ajv) takes seconds on a busy 2-core machine.
    testTimeout: 30_000,
    environment: 'node',
  },
});
