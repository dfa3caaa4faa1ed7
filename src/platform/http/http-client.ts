import { request } from 'undici';

export interface HttpCall {
  method: string;
  headers?: Record<string, string>;
  body?: string;
  signal?: AbortSignal;
}

export interface HttpAnswer {
  status: number;
  /** The whole body as text ('' when there is none). */
  text: string;
  header(name: string): string | undefined;
}

/**
 * The one client for calls out of the service. undici's `request` rather than `fetch`: a delivery is an HTTP
 * call, and `fetch` spends about three times the CPU per call (bench in BENCHMARKS.md). Redirects are not
 * followed: a 3xx comes back as an answer, for the caller to classify.
 */
export async function httpCall(url: string, call: HttpCall): Promise<HttpAnswer> {
  const response = await request(url, { method: call.method as 'POST', headers: call.headers, body: call.body, signal: call.signal });
  const text = await response.body.text();
  return {
    status: response.statusCode,
    text,
    header(name) {
      const value = response.headers[name.toLowerCase()];
      return Array.isArray(value) ? value[0] : value;
    },
  };
}
