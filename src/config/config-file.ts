import { readFileSync } from 'node:fs';
import { isScalar, LineCounter, parseDocument, visit, type Node } from 'yaml';
import { validatePlain } from '../platform/http/field-errors.js';
import { RESOURCE_ID } from '../platform/http/resource-id.js';
import { validateResource, type ResourceType } from '../modules/configuration/configuration.module.js';
import type { ConfigurationDocument } from '../modules/configuration/index.js';
import { ROUTING_DOMAINS, RoutingDto, routingProblems } from '../modules/migration-coexistence/migration-coexistence.module.js';
import { ConfigError } from './config-error.js';

const SECTIONS: Record<keyof ConfigurationDocument, ResourceType | 'routing'> = {
  erpBackends: 'erp-backend',
  channels: 'channel',
  sources: 'source',
  routing: 'routing',
};

/**
 * Reads the YAML configuration file: `${VAR}` and `${VAR:-default}` in values are taken from the
 * environment (so secrets need not sit in the file), and every resource is checked as the admin API checks it.
 */
export function loadConfigurationFile(path: string, env: NodeJS.ProcessEnv = process.env): ConfigurationDocument {
  const key = `CROSSDOCK_CONFIG (${path})`;
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError(key, `cannot be read: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
  return parseConfiguration(text, key, env);
}

export function parseConfiguration(text: string, key: string, env: NodeJS.ProcessEnv): ConfigurationDocument {
  const lineCounter = new LineCounter();
  const document = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  if (document.errors.length > 0) {
    const error = document.errors[0]!;
    const { line, col } = lineCounter.linePos(error.pos[0]);
    throw new ConfigError(key, `line ${line}, column ${col}: ${error.message.split('\n')[0]}`);
  }
  substituteEnvironment(document.contents, env, key);
  const root: unknown = document.toJS() ?? {};
  if (typeof root !== 'object' || Array.isArray(root)) throw new ConfigError(key, 'must be a mapping with erpBackends, channels, sources, routing');

  const result: ConfigurationDocument = { erpBackends: {}, channels: {}, sources: {}, routing: {} };
  for (const [section, value] of Object.entries(root as Record<string, unknown>)) {
    if (!(section in SECTIONS)) {
      throw new ConfigError(`${key} ${section}`, `is not a known section (expected ${Object.keys(SECTIONS).join(', ')})`);
    }
    if (value === null || value === undefined) continue;
    if (typeof value !== 'object' || Array.isArray(value)) throw new ConfigError(`${key} ${section}`, 'must be a mapping of id to settings');
    for (const [id, body] of Object.entries(value as Record<string, unknown>)) {
      const at = `${section}.${id}`;
      const idOk = section === 'routing' ? (ROUTING_DOMAINS as readonly string[]).includes(id) : RESOURCE_ID.test(id);
      if (!idOk) {
        throw new ConfigError(`${key} ${at}`, section === 'routing' ? `domain must be one of ${ROUTING_DOMAINS.join(', ')}` : 'id must be 1-64 letters, digits, ".", "_" or "-"');
      }
      const type = SECTIONS[section as keyof ConfigurationDocument];
      const errors = type === 'routing' ? validatePlain(RoutingDto, body, at).errors : validateResource(type, body, at);
      if (errors.length > 0) {
        const first = errors[0]!;
        throw new ConfigError(`${key} ${first.field}`, first.message + (errors.length > 1 ? ` (and ${errors.length - 1} more)` : ''));
      }
      (result[section as keyof ConfigurationDocument] as Record<string, unknown>)[id] = body;
    }
  }
  for (const [domain, rule] of Object.entries(result.routing)) {
    const roleOf = (id: string) => result.erpBackends[id]?.role;
    const problem = routingProblems(rule!, roleOf)[0];
    if (problem) throw new ConfigError(`${key} routing.${domain}.${problem.field}`, problem.message);
  }
  return result;
}

const PLACEHOLDER = /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

function substituteEnvironment(root: Node | null, env: NodeJS.ProcessEnv, key: string): void {
  visit(root as never, {
    Scalar(_, node, path) {
      if (typeof node.value !== 'string' || !node.value.includes('${')) return;
      node.value = node.value.replace(PLACEHOLDER, (_match, name: string, fallback?: string) => {
        const value = env[name] ?? fallback;
        if (value === undefined) throw new ConfigError(`${key} ${pathOf(path)}`, `refers to \${${name}}, which is not set`);
        return value;
      });
    },
  });
}

function pathOf(path: readonly unknown[]): string {
  const parts: string[] = [];
  for (const item of path) {
    const pair = item as { key?: unknown };
    if (pair && typeof pair === 'object' && 'key' in pair && isScalar(pair.key)) parts.push(String(pair.key.value));
  }
  return parts.join('.') || '(root)';
}

