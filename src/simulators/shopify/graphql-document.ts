/**
 * The part of GraphQL a Shopify Admin API look-alike needs to read what real clients send: operations with
 * variables, fields with aliases and arguments, inline fragments and directives (named fragments are refused).
 * Values are resolved against the request's variables as they are parsed, so resolvers see plain data.
 */
export interface GqlField {
  kind: 'field';
  alias?: string;
  name: string;
  args: Record<string, unknown>;
  directives: GqlDirective[];
  selections: GqlSelection[];
}

export interface GqlInlineFragment {
  kind: 'inline';
  typeCondition?: string;
  selections: GqlSelection[];
}

export type GqlSelection = GqlField | GqlInlineFragment;

export interface GqlDirective {
  name: string;
  args: Record<string, unknown>;
}

export interface GqlOperation {
  type: 'query' | 'mutation';
  name?: string;
  selections: GqlSelection[];
}

export class GraphQLSyntaxError extends Error {}

type Token = { kind: 'punct' | 'name' | 'number' | 'string'; value: string };

const PUNCTUATORS = new Set(['!', '$', '(', ')', ':', '=', '@', '[', ']', '{', '}', '|', '&']);

function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < source.length) {
    const c = source[i]!;
    if (c === '#') {
      while (i < source.length && source[i] !== '\n') i++;
    } else if (/[\s,\uFEFF]/.test(c)) {
      i++;
    } else if (source.startsWith('...', i)) {
      tokens.push({ kind: 'punct', value: '...' });
      i += 3;
    } else if (PUNCTUATORS.has(c)) {
      tokens.push({ kind: 'punct', value: c });
      i++;
    } else if (/[A-Za-z_]/.test(c)) {
      const match = /^[A-Za-z_][A-Za-z0-9_]*/.exec(source.slice(i))!;
      tokens.push({ kind: 'name', value: match[0] });
      i += match[0].length;
    } else if (/[-0-9]/.test(c)) {
      const match = /^-?\d+(\.\d+)?([eE][+-]?\d+)?/.exec(source.slice(i));
      if (!match) throw new GraphQLSyntaxError(`Parse error on "${c}" at offset ${i}`);
      tokens.push({ kind: 'number', value: match[0] });
      i += match[0].length;
    } else if (c === '"') {
      if (source.startsWith('"""', i)) {
        const end = source.indexOf('"""', i + 3);
        if (end < 0) throw new GraphQLSyntaxError('Unterminated block string');
        tokens.push({ kind: 'string', value: source.slice(i + 3, end) });
        i = end + 3;
      } else {
        const match = /^"((?:[^"\\\n]|\\.)*)"/.exec(source.slice(i));
        if (!match) throw new GraphQLSyntaxError(`Unterminated string at offset ${i}`);
        tokens.push({ kind: 'string', value: JSON.parse(match[0]) as string });
        i += match[0].length;
      }
    } else {
      throw new GraphQLSyntaxError(`Parse error on "${c}" at offset ${i}`);
    }
  }
  return tokens;
}

/** Parses `source` and returns the operation to run (by `operationName` when the document holds several). */
export function parseOperation(source: string, variables: Record<string, unknown> = {}, operationName?: string): GqlOperation {
  const tokens = tokenize(source);
  let at = 0;
  const peek = (value?: string) => (value === undefined ? tokens[at] : tokens[at]?.value === value && tokens[at]?.kind !== 'string' ? tokens[at] : undefined);
  const next = (): Token => {
    const token = tokens[at++];
    if (!token) throw new GraphQLSyntaxError('Unexpected end of document');
    return token;
  };
  const expect = (value: string) => {
    const token = next();
    if (token.value !== value || token.kind === 'string') throw new GraphQLSyntaxError(`Expected "${value}", found "${token.value}"`);
  };
  const name = (): string => {
    const token = next();
    if (token.kind !== 'name') throw new GraphQLSyntaxError(`Expected a name, found "${token.value}"`);
    return token.value;
  };

  const value = (constant: boolean): unknown => {
    const token = next();
    if (token.kind === 'punct' && token.value === '$' && !constant) {
      const variable = name();
      return variables[variable] ?? null;
    }
    if (token.kind === 'number') return Number(token.value);
    if (token.kind === 'string') return token.value;
    if (token.kind === 'name') return token.value === 'true' ? true : token.value === 'false' ? false : token.value === 'null' ? null : token.value;
    if (token.value === '[') {
      const list: unknown[] = [];
      while (!peek(']')) list.push(value(constant));
      expect(']');
      return list;
    }
    if (token.value === '{') return keyValues('}', constant);
    throw new GraphQLSyntaxError(`Unexpected "${token.value}"`);
  };
  /** `name: value` pairs up to `close`: an input object's fields or a field's arguments. */
  const keyValues = (close: string, constant: boolean): Record<string, unknown> => {
    const result: Record<string, unknown> = {};
    while (!peek(close)) {
      const key = name();
      expect(':');
      result[key] = value(constant);
    }
    expect(close);
    return result;
  };
  const args = (): Record<string, unknown> => {
    if (!peek('(')) return {};
    expect('(');
    return keyValues(')', false);
  };
  const directives = (): GqlDirective[] => {
    const result: GqlDirective[] = [];
    while (peek('@')) {
      next();
      result.push({ name: name(), args: args() });
    }
    return result;
  };
  const type = () => {
    if (peek('[')) {
      next();
      type();
      expect(']');
    } else {
      name();
    }
    if (peek('!')) next();
  };
  const selectionSet = (): GqlSelection[] => {
    expect('{');
    const selections: GqlSelection[] = [];
    while (!peek('}')) {
      if (peek('...')) {
        next();
        if (peek('on')) {
          next();
          const typeCondition = name();
          directives();
          selections.push({ kind: 'inline', typeCondition, selections: selectionSet() });
        } else if (peek('{') || peek('@')) {
          directives();
          selections.push({ kind: 'inline', selections: selectionSet() });
        } else {
          throw new GraphQLSyntaxError('Named fragments are not supported');
        }
        continue;
      }
      const first = name();
      let alias: string | undefined;
      let fieldName = first;
      if (peek(':')) {
        next();
        alias = first;
        fieldName = name();
      }
      const fieldArgs = args();
      const fieldDirectives = directives();
      selections.push({ kind: 'field', alias, name: fieldName, args: fieldArgs, directives: fieldDirectives, selections: peek('{') ? selectionSet() : [] });
    }
    expect('}');
    return selections;
  };

  const operations: GqlOperation[] = [];
  while (at < tokens.length) {
    if (peek('{')) {
      operations.push({ type: 'query', selections: selectionSet() });
      continue;
    }
    const keyword = name();
    if (keyword === 'fragment') throw new GraphQLSyntaxError('Named fragments are not supported');
    if (keyword !== 'query' && keyword !== 'mutation') throw new GraphQLSyntaxError(`Unsupported operation "${keyword}"`);
    const operation: GqlOperation = { type: keyword, selections: [] };
    if (peek()?.kind === 'name') operation.name = name();
    if (peek('(')) {
      next();
      while (!peek(')')) {
        expect('$');
        const variable = name();
        expect(':');
        type();
        if (peek('=')) {
          next();
          const fallback = value(true);
          if (!(variable in variables)) variables[variable] = fallback;
        }
        directives();
      }
      expect(')');
    }
    directives();
    operation.selections = selectionSet();
    operations.push(operation);
  }
  const chosen = operationName ? operations.find((o) => o.name === operationName) : operations.length === 1 ? operations[0] : undefined;
  if (!chosen) throw new GraphQLSyntaxError(operations.length ? 'An operation name is required when the document holds several' : 'No operation in the document');
  return chosen;
}
