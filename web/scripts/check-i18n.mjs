#!/usr/bin/env node
// The catalogs' check (part of `npm run lint`): for @omw-chat/react and for the demo, the
// messages in the code (FormatJS extraction: defineMessages, formatMessage, <FormattedMessage>)
// against locales/{en,de,ar}.json. Fails on
//   - a message in the code that a catalog lacks (missing key),
//   - a catalog key that no code uses any more (unused key),
//   - en.json text that differs from the code's default (the code is the source of English),
//   - a translation that is not valid ICU, or whose placeholders or tags differ from English's,
//   - a plural that lacks a form the language needs (Arabic: zero, one, two, few, many, other).
//
//   node scripts/check-i18n.mjs          # check
//   node scripts/check-i18n.mjs --write  # rewrite every en.json from the code, then check
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { extract } from '@formatjs/cli-lib';
import { parse, TYPE } from '@formatjs/icu-messageformat-parser';

const WEB = join(dirname(fileURLToPath(import.meta.url)), '..');
const LOCALES = ['en', 'de', 'ar'];
const PROJECTS = [
  { name: '@omw-chat/react', src: 'packages/react/src' },
  { name: 'demo', src: 'src' },
];
const write = process.argv.includes('--write');

function sources(dir) {
  const out = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...sources(p));
    else if (/\.(ts|tsx)$/.test(e.name) && !/\.test\.tsx?$/.test(e.name) && !e.name.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

/** Placeholders, tags and plurals of a message: what every translation must keep. */
function shape(elements, acc = { args: new Set(), tags: new Set(), plurals: [] }) {
  for (const el of elements) {
    if ([TYPE.argument, TYPE.number, TYPE.date, TYPE.time].includes(el.type)) acc.args.add(el.value);
    if (el.type === TYPE.plural || el.type === TYPE.select) {
      acc.args.add(el.value);
      if (el.type === TYPE.plural && el.pluralType !== 'ordinal') acc.plurals.push({ arg: el.value, options: Object.keys(el.options) });
      for (const o of Object.values(el.options)) shape(o.value, acc);
    }
    if (el.type === TYPE.tag) {
      acc.tags.add(el.value);
      shape(el.children, acc);
    }
  }
  return acc;
}

const same = (a, b) => a.size === b.size && [...a].every((x) => b.has(x));
const problems = [];

for (const project of PROJECTS) {
  const dir = join(WEB, project.src);
  const files = sources(dir);
  const extracted = JSON.parse(await extract(files, { throws: true, preserveWhitespace: true }));
  const code = Object.fromEntries(Object.entries(extracted).map(([id, d]) => [id, d.defaultMessage]));
  const where = (p) => `${project.name}: ${relative(WEB, p)}`;
  for (const [id, text] of Object.entries(code)) if (!text) problems.push(`${project.name}: message "${id}" has no English default in the code`);

  const enPath = join(dir, 'locales', 'en.json');
  if (write) {
    const sorted = Object.fromEntries(Object.keys(code).sort().map((id) => [id, code[id]]));
    writeFileSync(enPath, `${JSON.stringify(sorted, null, 2)}\n`);
  }
  for (const locale of LOCALES) {
    const path = join(dir, 'locales', `${locale}.json`);
    let catalog;
    try {
      catalog = JSON.parse(readFileSync(path, 'utf8'));
    } catch (err) {
      problems.push(`${where(path)}: ${err.message}`);
      continue;
    }
    for (const id of Object.keys(code)) if (!(id in catalog)) problems.push(`${where(path)}: missing key "${id}"`);
    for (const id of Object.keys(catalog)) if (!(id in code)) problems.push(`${where(path)}: unused key "${id}" (no code uses it)`);
    const categories = new Intl.PluralRules(locale).resolvedOptions().pluralCategories;
    for (const [id, text] of Object.entries(catalog)) {
      if (!(id in code)) continue;
      if (locale === 'en' && text !== code[id]) {
        problems.push(`${where(path)}: "${id}" differs from the code's English (run: node scripts/check-i18n.mjs --write)`);
        continue;
      }
      let mine;
      let english;
      try {
        mine = shape(parse(text));
        english = shape(parse(code[id]));
      } catch (err) {
        problems.push(`${where(path)}: "${id}" is not valid ICU: ${err.message}`);
        continue;
      }
      if (!same(mine.args, english.args)) problems.push(`${where(path)}: "${id}" placeholders {${[...mine.args]}} differ from English {${[...english.args]}}`);
      if (!same(mine.tags, english.tags)) problems.push(`${where(path)}: "${id}" tags differ from English`);
      for (const p of mine.plurals) {
        const lacking = categories.filter((c) => !p.options.includes(c) && !(c === 'zero' && p.options.includes('=0')) && !(c === 'one' && p.options.includes('=1')));
        if (lacking.length) problems.push(`${where(path)}: "${id}" plural {${p.arg}} lacks the ${locale} forms ${lacking.join(', ')}`);
      }
    }
  }
  // A descriptor in `const NAME = defineMessages({ key: { id … } })` that nothing reads (NAME.key)
  // is an unused message too, though extraction still finds it. Maps read by a computed key
  // (NAME[code], (NAME as …)[code]) count as read.
  for (const file of files) {
    const text = readFileSync(file, 'utf8');
    for (const block of text.matchAll(/const (\w+) = defineMessages\(\{([\s\S]*?)\n\}\)/g)) {
      const [, name, body] = block;
      if (new RegExp(`\\b${name}\\[|\\(${name} as `).test(text)) continue;
      for (const [, key] of body.matchAll(/^ {2}(\w+): \{/gm)) {
        if (!new RegExp(`\\b${name}\\.${key}\\b`).test(text)) problems.push(`${where(file)}: message ${name}.${key} is defined but never used`);
      }
    }
  }
  console.log(`check-i18n: ${project.name}: ${Object.keys(code).length} messages in ${files.length} files, catalogs ${LOCALES.join(', ')}`);
}

if (problems.length) {
  console.error(`check-i18n: ${problems.length} problem(s):\n  ${problems.join('\n  ')}`);
  process.exit(1);
}
console.log('check-i18n: every catalog has every message, and nothing unused');
