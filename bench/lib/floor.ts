import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import ts from 'typescript';

/**
 * Compiles bench/floor/bare-app.ts to bench/.build/bare-app.mjs (type-stripped only) and returns its path. It lives
 * under bench/ so its package imports resolve from the project's node_modules.
 */
export async function buildFloorApp(root: string): Promise<string> {
  const source = await readFile(path.join(root, 'bench/floor/bare-app.ts'), 'utf8');
  const out = ts.transpileModule(source, {
    compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, verbatimModuleSyntax: false },
    fileName: 'bare-app.ts',
  });
  const dir = path.join(root, 'bench/.build');
  await mkdir(dir, { recursive: true });
  const file = path.join(dir, 'bare-app.mjs');
  await writeFile(file, out.outputText);
  return file;
}
