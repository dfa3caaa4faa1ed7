import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { MAPPINGS_DOCUMENT, MAPPINGS_DOCUMENT_COMMAND, mappingsMarkdown } from './mappings-markdown.js';
import { MAPPED_ENTITIES, MAPPING_TABLES } from './mappings.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../../../..');

describe('docs/COEXISTENCE-MAPPINGS.md', () => {
  it('is what mappingsMarkdown() makes of the tables', () => {
    expect(readFileSync(join(ROOT, MAPPINGS_DOCUMENT), 'utf8'), `${MAPPINGS_DOCUMENT} is out of date: run ${MAPPINGS_DOCUMENT_COMMAND}`).toBe(mappingsMarkdown());
  });

  it('has a table row for every mapping row, and one for every value map kind', () => {
    const markdown = mappingsMarkdown();
    for (const entity of MAPPED_ENTITIES) for (const row of MAPPING_TABLES[entity].rows) expect(markdown).toContain(`| \`${row.canonical}\` |`);
    expect(markdown).toContain('| `currency` | the company\'s currency code');
  });
});
