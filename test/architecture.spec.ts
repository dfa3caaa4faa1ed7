import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

/**
 * The module boundaries, checked on every import of src/:
 * - modules/<m>/domain imports no framework, database or queue package, and nothing outside its module;
 * - code outside a module reaches it only through its public index.ts;
 * - platform/ imports no module;
 * - connectors/ import no module (they speak the canonical contracts and use platform machinery).
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
      if (targetModule && targetModule !== fileModule && target !== `src/modules/${targetModule}/index.ts`) {
        found.push(`${file}: imports ${target}; use src/modules/${targetModule}/index.ts`);
      }
      if (file.startsWith('src/platform/') && targetModule) found.push(`${file}: platform code imports module ${targetModule}`);
      if (file.startsWith('src/connectors/') && targetModule) found.push(`${file}: connector imports module ${targetModule}`);
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

  it('the check finds each kind of violation', () => {
    const graph: ImportGraph = new Map([
      ['src/modules/orders/domain/split.ts', ['@nestjs/common', '../../inventory/domain/atp.js', './lines.js']],
      ['src/modules/orders/api/orders.controller.ts', ['../../inventory/inventory.service.js', '../../inventory/index.js']],
      ['src/platform/outbox/outbox.ts', ['../../modules/orders/index.js']],
      ['src/connectors/erp/bc/client.ts', ['../../../modules/orders/index.js', '../../../platform/http/problem.js']],
    ]);
    expect(violations(graph)).toEqual([
      'src/modules/orders/domain/split.ts: domain code imports @nestjs/common',
      'src/modules/orders/domain/split.ts: domain code imports src/modules/inventory/domain/atp.ts, outside its module',
      'src/modules/orders/domain/split.ts: imports src/modules/inventory/domain/atp.ts; use src/modules/inventory/index.ts',
      'src/modules/orders/api/orders.controller.ts: imports src/modules/inventory/inventory.service.ts; use src/modules/inventory/index.ts',
      'src/platform/outbox/outbox.ts: platform code imports module orders',
      'src/connectors/erp/bc/client.ts: connector imports module orders',
    ]);
  });
});
