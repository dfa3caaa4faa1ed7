import { StringDecoder } from 'node:string_decoder';
import { request, type Dispatcher } from 'undici';
import { TargetError } from '../delivery/outcome.js';

export interface HttpCall {
  method: string;
  headers?: Record<string, string>;
  body?: string;
  signal?: AbortSignal;
  /**
   * The most of the answer's body read (16 MiB by default). Beyond it, `fail` (the default) throws a
   * retryable TargetError; `truncate` keeps what was read, for callers that need only the status and an excerpt.
   */
  maxBytes?: number;
  overLimit?: 'fail' | 'truncate';
}

export interface HttpAnswer {
  status: number;
  /** The body as text ('' when there is none), cut at maxBytes when the call said `truncate`. */
  text: string;
  /** The header's first value. */
  header(name: string): string | undefined;
  /** Every value of a header sent more than once (Set-Cookie). */
  headerValues(name: string): string[];
}

const DEFAULT_MAX_BYTES = 16 * 1024 * 1024;

/**
 * The one client for calls out of the service. undici's `request` rather than `fetch`: a delivery is an HTTP
 * call, and `fetch` spends about twice the CPU per call (bench:http-client in BENCHMARKS.md). Redirects are
 * not followed: a 3xx comes back as an answer, for the caller to classify. A body is read up to a bound, so
 * that a target answering gigabytes cannot take the process's memory. With tracing on, undici's instrumentation
 * (through its diagnostics channels) makes each call a span of the delivery's trace and adds `traceparent`.
 */
export async function httpCall(url: string, call: HttpCall): Promise<HttpAnswer> {
  try {
    return await exchange(url, call);
  } catch (error) {
    // A timeout or an abort is said by the signal; a connection refused, reset or cut short is the path's fault.
    if (error instanceof TargetError || call.signal?.aborted) throw error;
    const { code, message } = error as { code?: string; message?: string };
    throw new TargetError('retryable', `the call to ${new URL(url).host} failed: ${[code, message].filter(Boolean).join(' ')}`);
  }
}

async function exchange(url: string, call: HttpCall): Promise<HttpAnswer> {
  const response = await request(url, { method: call.method as 'POST', headers: call.headers, body: call.body, signal: call.signal });
  const limit = call.maxBytes ?? DEFAULT_MAX_BYTES;
  const refuse = (said: string): never => {
    throw new TargetError('retryable', `the target answered ${response.statusCode} with a body larger than the ${limit} bytes ${said}`, { status: response.statusCode });
  };
  // A body declared too large is refused unread; one that is not declared is read up to the bound.
  const declared = Number(response.headers['content-length']);
  if (call.overLimit !== 'truncate' && declared > limit) {
    response.body.destroy();
    refuse('allowed (Content-Length)');
  }
  const chunks: Buffer[] = [];
  let size = 0;
  let cut = false;
  for await (const chunk of response.body) {
    const bytes = chunk as Buffer;
    if (size + bytes.length > limit) {
      cut = true;
      chunks.push(bytes.subarray(0, limit - size));
      break;
    }
    chunks.push(bytes);
    size += bytes.length;
  }
  if (cut) {
    response.body.destroy();
    if (call.overLimit !== 'truncate') refuse('read');
  }
  return answer(response, decode(chunks));
}

/** The chunks as text, each let go once decoded, so that a large answer is not held as its chunks, their concatenation and its text at once. */
function decode(chunks: Buffer[]): string {
  if (chunks.length === 1) return chunks[0]!.toString('utf8');
  const decoder = new StringDecoder('utf8');
  const parts: string[] = [];
  for (let i = 0; i < chunks.length; i++) {
    parts.push(decoder.write(chunks[i]!));
    chunks[i] = EMPTY;
  }
  parts.push(decoder.end());
  return parts.join('');
}

const EMPTY = Buffer.alloc(0);

function answer(response: Dispatcher.ResponseData, text: string): HttpAnswer {
  return {
    status: response.statusCode,
    text,
    header(name) {
      const value = response.headers[name.toLowerCase()];
      return Array.isArray(value) ? value[0] : value;
    },
    headerValues(name) {
      const value = response.headers[name.toLowerCase()];
      return value === undefined ? [] : Array.isArray(value) ? value : [value];
    },
  };
}
