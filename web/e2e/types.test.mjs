// The npm package as a user gets it: web/package.json's exports resolve in
// node, static/ringcast.d.ts declares exactly what ringcast.js exports, and
// types/usage.ts compiles against it with tsc --strict.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const here = path.dirname(fileURLToPath(import.meta.url));
const webDir = path.resolve(here, '..');

/** installed makes a directory where `import 'ringcast'` finds web/ as an installed package. */
function installed(t) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ringcast-pkg-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  fs.mkdirSync(path.join(dir, 'node_modules'));
  fs.symlinkSync(webDir, path.join(dir, 'node_modules', 'ringcast'), 'dir');
  fs.writeFileSync(path.join(dir, 'package.json'), '{"type":"module","private":true}\n');
  return dir;
}

test('package.json publishes the client as "ringcast" with its types', () => {
  const pkg = JSON.parse(fs.readFileSync(path.join(webDir, 'package.json'), 'utf8'));
  assert.equal(pkg.name, 'ringcast');
  assert.equal(pkg.type, 'module');
  assert.equal(pkg.dependencies, undefined, 'the client has no dependencies');
  assert.equal(pkg.exports['.'].default, './static/ringcast.js');
  assert.equal(pkg.exports['.'].types, './static/ringcast.d.ts');
  assert.equal(pkg.types, './static/ringcast.d.ts');
  for (const f of pkg.files) assert.ok(fs.existsSync(path.join(webDir, f)), `files lists ${f}, which is missing`);
  const src = fs.readFileSync(path.join(webDir, 'static', 'ringcast.js'), 'utf8');
  assert.doesNotMatch(src, /^\s*import\s/m, 'ringcast.js imports nothing');
  assert.match(src, new RegExp(`VERSION = '${pkg.version.replace(/\./g, '\\.')}'`), 'VERSION matches package.json');
});

test('import "ringcast" works in node and ringcast.d.ts declares every export', async (t) => {
  const dir = installed(t);
  fs.writeFileSync(
    path.join(dir, 'names.mjs'),
    "import * as rc from 'ringcast'; console.log(JSON.stringify(Object.keys(rc).sort()));\n",
  );
  const { stdout } = await run(process.execPath, ['names.mjs'], { cwd: dir });
  const exported = JSON.parse(stdout);
  const dts = fs.readFileSync(path.join(webDir, 'static', 'ringcast.d.ts'), 'utf8');
  const declared = [...new Set([...dts.matchAll(/^export (?:const|class|function) (\w+)/gm)].map((m) => m[1]))].sort();
  assert.deepEqual(declared, exported);
});

test('types/usage.ts compiles with tsc --strict against the package', async (t) => {
  const dir = installed(t);
  for (const f of ['usage.ts', 'tsconfig.json']) fs.copyFileSync(path.join(here, 'types', f), path.join(dir, f));
  const tsc = path.join(here, 'node_modules', 'typescript', 'bin', 'tsc');
  assert.ok(fs.existsSync(tsc), `${tsc} is missing: run npm ci --prefix web/e2e`);
  try {
    await run(process.execPath, [tsc, '-p', 'tsconfig.json'], { cwd: dir });
  } catch (err) {
    assert.fail(`tsc found errors:\n${err.stdout}${err.stderr}`);
  }
});
