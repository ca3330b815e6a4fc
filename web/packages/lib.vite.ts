// Vite library mode for the two packages: one ES module per package (`dist/index.js`), every
// dependency and peer dependency left external (the app's bundler resolves and dedupes them:
// one React, one MUI theme, one socket.io-client). Dev dependencies are bundled: the dozen
// @mui/icons-material icons the components use are a few hundred bytes each, while the
// package itself is thousands of files a platform would otherwise install. Declarations come
// from `tsc` afterwards (tsconfig.build.json), see web/README.md.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { defineConfig, type UserConfig } from 'vite';

export function libraryConfig(dir: string): UserConfig {
  const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as {
    dependencies?: Record<string, string>;
    peerDependencies?: Record<string, string>;
  };
  const deps = Object.keys({ ...pkg.dependencies, ...pkg.peerDependencies });
  return defineConfig({
    root: dir,
    build: {
      outDir: join(dir, 'dist'),
      emptyOutDir: true,
      sourcemap: true,
      minify: false,
      target: 'es2022',
      lib: { entry: join(dir, 'src/index.ts'), formats: ['es'], fileName: 'index' },
      rollupOptions: {
        // `react` also covers `react/jsx-runtime`, `@mui/material` its deep imports.
        external: (id) => deps.some((d) => id === d || id.startsWith(`${d}/`)),
      },
    },
  });
}
