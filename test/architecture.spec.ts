import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

/**
 * The module boundaries (docs/MODULES.md), checked on every import of src/:
 * - modules/<m>/domain imports no framework, database or queue package, and nothing outside its module;
 * - a module reaches another only through its index.ts, the contract;
 * - the composition root (src/ outside modules, platform and connectors) may also import a module's
 *   <m>.module.ts, which it wires and boots with;
 * - platform/ and connectors/ import no module (connectors read targets through a platform port);
 * - an index.ts exports only commands, queries and events (from commands/, queries/, events/) and types.
 */
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const INFRASTRUCTURE_PACKAGES = /^(@nestjs\/|@mikro-orm\/|pg-boss$|pg$|kysely$|fastify$)/;

type ImportGraph = Map<string, string[]>; // file (relative to ROOT) -> specifiers as written

export function violations(graph: ImportGraph): string[] {
  const found: string[] = [];
  for (const [file, specifiers] of graph) {
    const fileModule = moduleOf(file);
    for (const specifier of specifiers) {
      const target = specifier.startsWith('.') ? relative(ROOT, resolve(ROOT, dirname(file), specifier)).replace(/\.js$/, '.ts') : undefined;
      const targetModule = target ? moduleOf(target) : undefined;
      if (/^src\/modules\/[^/]+\/domain\//.test(file)) {
        if (target === undefined && INFRASTRUCTURE_PACKAGES.test(specifier)) found.push(`${file}: domain code imports ${specifier}`);
        if (target !== undefined && !target.startsWith(`src/modules/${fileModule}/`)) found.push(`${file}: domain code imports ${target}, outside its module`);
      }
      const root = !fileModule && !file.startsWith('src/platform/') && !file.startsWith('src/connectors/');
      const allowed = [`src/modules/${targetModule}/index.ts`, ...(root ? [`src/modules/${targetModule}/${targetModule}.module.ts`] : [])];
      if (targetModule && targetModule !== fileModule && !allowed.includes(target!)) {
        found.push(`${file}: imports ${target}; use src/modules/${targetModule}/index.ts`);
      }
      if (file.startsWith('src/platform/') && targetModule) found.push(`${file}: platform code imports module ${targetModule}`);
      if (file.startsWith('src/connectors/') && targetModule) found.push(`${file}: connector imports module ${targetModule}`);
    }
  }
  return found;
}

const CONTRACT_FOLDERS = /^\.\/(commands|queries|events)\//;

/** What a module's index.ts exports that is not a command, query, event or type. */
export function contractViolations(file: string, source: string): string[] {
  const found: string[] = [];
  const tree = ts.createSourceFile(file, source, ts.ScriptTarget.Latest, true);
  for (const statement of tree.statements) {
    if (ts.isExportDeclaration(statement)) {
      const from = statement.moduleSpecifier && ts.isStringLiteral(statement.moduleSpecifier) ? statement.moduleSpecifier.text : undefined;
      if (statement.isTypeOnly || (from && CONTRACT_FOLDERS.test(from))) continue;
      if (!statement.exportClause) {
        found.push(`${file}: export * from ${from}`);
        continue;
      }
      const elements = ts.isNamedExports(statement.exportClause) ? statement.exportClause.elements : [];
      for (const element of elements) {
        if (!element.isTypeOnly) found.push(`${file}: exports ${element.name.text} from ${from ?? 'itself'}; a contract holds commands, queries, events and types`);
      }
    } else if (ts.isInterfaceDeclaration(statement) || ts.isTypeAliasDeclaration(statement)) {
      continue;
    } else if (ts.canHaveModifiers(statement) && ts.getModifiers(statement)?.some((m) => m.kind === ts.SyntaxKind.ExportKeyword)) {
      found.push(`${file}: declares an export of its own; a contract re-exports its commands, queries and events`);
    }
  }
  return found;
}

function moduleOf(path: string): string | undefined {
  return /^src\/modules\/([^/]+)\//.exec(path)?.[1];
}

function sourceGraph(): ImportGraph {
  const graph: ImportGraph = new Map();
  const walk = (dir: string) => {
    for (const name of readdirSync(join(ROOT, dir))) {
      const path = join(dir, name);
      if (statSync(join(ROOT, path)).isDirectory()) walk(path);
      else if (name.endsWith('.ts') && !name.endsWith('.spec.ts')) {
        const info = ts.preProcessFile(readFileSync(join(ROOT, path), 'utf8'), true, true);
        graph.set(path, info.importedFiles.map((f) => f.fileName));
      }
    }
  };
  walk('src');
  return graph;
}

describe('architecture', () => {
  it('the source tree keeps the module boundaries', () => {
    const graph = sourceGraph();
    expect(graph.size).toBeGreaterThan(20);
    expect(violations(graph)).toEqual([]);
  });

  it("every module's index.ts exports only its commands, queries, events and types", () => {
    const modules = readdirSync(join(ROOT, 'src/modules'));
    expect(modules.length).toBeGreaterThan(4);
    const found = modules.flatMap((name) => {
      const file = `src/modules/${name}/index.ts`;
      return contractViolations(file, readFileSync(join(ROOT, file), 'utf8'));
    });
    expect(found).toEqual([]);
  });

  it('the contract check finds what a contract must not export', () => {
    const index = [
      "export { PlaceOrderCommand } from './commands/place-order/place-order.js';",
      "export { OrderQuery, type OrderView } from './queries/order/order.js';",
      "export { OrderPlaced } from './events/order-placed.js';",
      "export type { OrderStatus } from './domain/order-status.js';",
      "export { OrdersService, type Helper } from './orders.service.js';",
      "export * from './entities/order.entity.js';",
      'export const LIMIT = 5;',
      'export interface Local { id: string }',
    ].join('\n');
    expect(contractViolations('src/modules/orders/index.ts', index)).toEqual([
      'src/modules/orders/index.ts: exports OrdersService from ./orders.service.js; a contract holds commands, queries, events and types',
      'src/modules/orders/index.ts: export * from ./entities/order.entity.js',
      'src/modules/orders/index.ts: declares an export of its own; a contract re-exports its commands, queries and events',
    ]);
  });

  it('the check finds each kind of violation', () => {
    const graph: ImportGraph = new Map([
      ['src/modules/orders/domain/split.ts', ['@nestjs/common', '../../inventory/domain/atp.js', './lines.js']],
      ['src/modules/orders/api/orders.controller.ts', ['../../inventory/inventory.service.js', '../../inventory/index.js']],
      ['src/platform/outbox/outbox.ts', ['../../modules/orders/index.js']],
      ['src/connectors/erp/bc/client.ts', ['../../../modules/orders/index.js', '../../../platform/http/problem.js']],
      ['src/modules/inventory/commands/reserve.ts', ['../../orders/orders.module.js']],
      ['src/app.module.ts', ['./modules/orders/orders.module.js', './modules/orders/index.js', './modules/orders/orders.service.js']],
    ]);
    expect(violations(graph)).toEqual([
      'src/modules/orders/domain/split.ts: domain code imports @nestjs/common',
      'src/modules/orders/domain/split.ts: domain code imports src/modules/inventory/domain/atp.ts, outside its module',
      'src/modules/orders/domain/split.ts: imports src/modules/inventory/domain/atp.ts; use src/modules/inventory/index.ts',
      'src/modules/orders/api/orders.controller.ts: imports src/modules/inventory/inventory.service.ts; use src/modules/inventory/index.ts',
      'src/platform/outbox/outbox.ts: platform code imports module orders',
      'src/connectors/erp/bc/client.ts: connector imports module orders',
      'src/modules/inventory/commands/reserve.ts: imports src/modules/orders/orders.module.ts; use src/modules/orders/index.ts',
      'src/app.module.ts: imports src/modules/orders/orders.service.ts; use src/modules/orders/index.ts',
    ]);
  });
});
