// After `tsc` wrote a package's declarations: give their relative imports the `.js` extension
// (`from './types'` → `from './types.js'`). The sources resolve like a bundler does, without
// extensions; a consumer whose tsconfig says `moduleResolution: "node16"`/`"nodenext"` needs
// them. Usage: node ../dts-extensions.mjs dist
import { existsSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

const RELATIVE = /(\bfrom\s+|\bimport\s*\(\s*)(['"])(\.{1,2}\/[^'"]+)\2/g;

function fix(file) {
  const text = readFileSync(file, 'utf8');
  const out = text.replace(RELATIVE, (all, head, quote, spec) => {
    if (/\.(js|mjs|cjs|json)$/.test(spec)) return all;
    const target = resolve(dirname(file), spec);
    const path = existsSync(`${target}.d.ts`) ? `${spec}.js` : existsSync(join(target, 'index.d.ts')) ? `${spec}/index.js` : null;
    if (!path) throw new Error(`${file}: cannot resolve ${spec}`);
    return `${head}${quote}${path}${quote}`;
  });
  if (out !== text) writeFileSync(file, out);
}

function walk(dir) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p);
    else if (p.endsWith('.d.ts')) fix(p);
  }
}

walk(resolve(process.argv[2] ?? 'dist'));
