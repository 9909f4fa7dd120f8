// The layer boundaries of ARCHITECTURE.md as an ESLint rule (netlab/layer-boundaries).
//
// Stacks are discovered from the folders of impl/ (every folder but runtime/ is a stack), so adding a
// stack needs no change here. For each import, the importing file and the imported file are put in a
// zone, and the pair is checked:
//   - impl/** imports no lab code (scenarios/, bin/, fuzz/, bench/, reports/, web/);
//   - the engine (sim/, reports/, web/, fuzz/, bench/, and scenarios/ outside the stack folders)
//     imports no stack: neither impl/<stack>/ nor scenarios/<stack>/, nor the registry
//     scenarios/stacks.ts — except the two browser entries: web/rerun-entry.ts, the re-run bundle,
//     which imports the registry (and so every stack) by design, and web/app-entry.ts, the page's
//     bootstrap, which takes the stacks' message decoders from it;
//   - a stack's lab folder scenarios/<a>/ imports no other stack's lab folder scenarios/<b>/ (its
//     impl/ may build on another stack's impl/: gRPC on HTTP/2);
//   - only bin/ and the registry scenarios/stacks.ts may import every stack.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';

/** Stack ids: the folders of impl/ except runtime/. */
export function stackIds(root) {
  const dir = join(root, 'impl');
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((d) => d !== 'runtime' && statSync(join(dir, d)).isDirectory())
    .sort();
}

/** Where a repository-relative path (posix) sits. */
export function zoneOf(path, stacks) {
  const [top, second] = path.split('/');
  if (top === 'impl') {
    if (second === 'runtime') return { kind: 'runtime' };
    if (second !== undefined && stacks.includes(second)) return { kind: 'stack-impl', stack: second };
    return { kind: 'runtime' };
  }
  if (top === 'scenarios') {
    if (path === 'scenarios/stacks.ts') return { kind: 'registry' };
    if (second !== undefined && stacks.includes(second)) return { kind: 'stack-lab', stack: second };
    return { kind: 'engine' };
  }
  if (top === 'bin') return { kind: 'bin' };
  if (['sim', 'reports', 'web', 'fuzz', 'bench'].includes(top)) return { kind: 'engine' };
  return { kind: 'other' };
}

/** The browser bundles' entry points: the only engine files that may import the registry. */
const BROWSER_ENTRIES = new Set(['web/rerun-entry.ts', 'web/app-entry.ts']);

const LAB_TOPS = new Set(['scenarios', 'bin', 'fuzz', 'bench', 'reports', 'web']);

/** Why importing `to` from `from` breaks a boundary, or null. Paths are repository-relative, posix. */
export function violation(from, to, stacks) {
  const a = zoneOf(from, stacks);
  const b = zoneOf(to, stacks);
  const toTop = to.split('/')[0];
  if (a.kind === 'runtime' || a.kind === 'stack-impl') {
    if (LAB_TOPS.has(toTop)) return `impl/ is production code: it imports no lab code (${to})`;
    return null;
  }
  if (a.kind === 'engine') {
    if (b.kind === 'stack-impl' || b.kind === 'stack-lab')
      return `the engine knows no stack: ${from} imports stack '${b.stack}' (${to}); reach it through the StackPlugin interface`;
    if (b.kind === 'registry' && !BROWSER_ENTRIES.has(from))
      return `the engine does not import the stack registry (${to}): bin/ passes the stacks in`;
    return null;
  }
  if (a.kind === 'stack-lab' && b.kind === 'stack-lab' && a.stack !== b.stack)
    return `stack '${a.stack}' imports another stack's lab folder (${to}); a stack may build on another's impl/ only`;
  return null;
}

const rule = {
  meta: {
    type: 'problem',
    docs: { description: 'enforce the layer boundaries of ARCHITECTURE.md' },
    schema: [],
  },
  create(context) {
    const root = context.cwd;
    const stacks = stackIds(root);
    const file = relative(root, context.filename).split(sep).join('/');
    const check = (node, source) => {
      if (typeof source !== 'string' || !source.startsWith('.')) return;
      const target = relative(root, resolve(dirname(context.filename), source))
        .split(sep)
        .join('/')
        .replace(/\.js$/, '.ts');
      const why = violation(file, target, stacks);
      if (why !== null) context.report({ node, message: why });
    };
    return {
      ImportDeclaration: (n) => check(n, n.source.value),
      ExportNamedDeclaration: (n) => n.source && check(n, n.source.value),
      ExportAllDeclaration: (n) => check(n, n.source.value),
      ImportExpression: (n) => n.source.type === 'Literal' && check(n, n.source.value),
    };
  },
};

/**
 * Oracle files of a stack's lab folder: its checks, "sometimes" conditions, families (their checks
 * and the generators that feed them) and its reference tables. Their tests are not oracles.
 */
export function isOracleFile(path, stacks) {
  const z = zoneOf(path, stacks);
  if (z.kind !== 'stack-lab' || path.endsWith('.test.ts')) return false;
  const rest = path.slice(`scenarios/${z.stack}/`.length);
  return (
    rest === 'checks.ts' ||
    rest === 'sometimes.ts' ||
    rest === 'reference.ts' ||
    rest.startsWith('families/') ||
    rest.startsWith('models/')
  );
}

/**
 * Why importing `to` (a value import; type-only imports are fine) from the oracle file `from` reuses
 * the implementation under test, or null. An oracle that calls the stack's own helper, option table
 * or validator agrees with the stack's bug in it; the facts belong in the stack's reference.ts.
 */
export function oracleViolation(from, to, stacks) {
  if (!isOracleFile(from, stacks)) return null;
  const a = zoneOf(from, stacks);
  const b = zoneOf(to, stacks);
  if (b.kind === 'stack-impl' && b.stack === a.stack)
    return `an oracle does not reuse the implementation under test: ${from} imports ${to}; write the fact in scenarios/${a.stack}/reference.ts (type-only imports are fine)`;
  return null;
}

const oracleRule = {
  meta: {
    type: 'problem',
    docs: { description: "keep a stack's checks independent of the implementation they judge" },
    schema: [],
  },
  create(context) {
    const root = context.cwd;
    const stacks = stackIds(root);
    const file = relative(root, context.filename).split(sep).join('/');
    const check = (node, source, typeOnly) => {
      if (typeOnly || typeof source !== 'string' || !source.startsWith('.')) return;
      const target = relative(root, resolve(dirname(context.filename), source))
        .split(sep)
        .join('/')
        .replace(/\.js$/, '.ts');
      const why = oracleViolation(file, target, stacks);
      if (why !== null) context.report({ node, message: why });
    };
    const typeOnlyImport = (n) =>
      n.importKind === 'type' ||
      (n.specifiers.length > 0 && n.specifiers.every((x) => x.importKind === 'type'));
    return {
      ImportDeclaration: (n) => check(n, n.source.value, typeOnlyImport(n)),
      ExportNamedDeclaration: (n) => n.source && check(n, n.source.value, n.exportKind === 'type'),
      ExportAllDeclaration: (n) => check(n, n.source.value, n.exportKind === 'type'),
      ImportExpression: (n) => n.source.type === 'Literal' && check(n, n.source.value, false),
    };
  },
};

export default { rules: { 'layer-boundaries': rule, 'independent-oracles': oracleRule } };
