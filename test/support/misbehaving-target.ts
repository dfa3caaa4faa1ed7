import { createServer, type Server, type ServerResponse } from 'node:http';

/** What the target does with the next requests. */
export type Misbehaviour =
  | { kind: 'json'; status?: number; body: unknown }
  | { kind: 'truncated'; body: string }
  | { kind: 'html'; status: number }
  | { kind: 'silent' }
  | { kind: 'reset' }
  | { kind: 'huge'; megabytes: number; declared?: boolean };

/**
 * An HTTP server that answers every request the way it is told: well-formed JSON of any shape, a truncated
 * body, an HTML error page, nothing at all, a reset connection, or a body of many megabytes.
 */
export class MisbehavingTarget {
  private server?: Server;
  behaviour: Misbehaviour = { kind: 'json', body: {} };
  requests = 0;

  async start(): Promise<string> {
    this.server = createServer((request, response) => {
      this.requests++;
      request.resume();
      request.on('end', () => {
        // An OAuth token endpoint always works, so that the misbehaviour is the API's.
        if (request.url?.includes('/oauth2/')) {
          response.writeHead(200, { 'content-type': 'application/json' });
          return void response.end(JSON.stringify({ token_type: 'Bearer', expires_in: 3600, access_token: 'token' }));
        }
        this.answer(response);
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    const address = this.server.address() as { port: number };
    return `http://127.0.0.1:${address.port}`;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  private answer(response: ServerResponse): void {
    const b = this.behaviour;
    if (b.kind === 'json') {
      response.writeHead(b.status ?? 200, { 'content-type': 'application/json' });
      response.end(JSON.stringify(b.body));
    } else if (b.kind === 'truncated') {
      // Says more than it sends, then closes: the client sees the body end early.
      response.writeHead(200, { 'content-type': 'application/json', 'content-length': String(b.body.length * 2) });
      response.write(b.body);
      response.socket?.destroy();
    } else if (b.kind === 'html') {
      response.writeHead(b.status, { 'content-type': 'text/html' });
      response.end('<!DOCTYPE html><html><head><title>Service Unavailable</title></head><body><h1>Service Unavailable</h1></body></html>');
    } else if (b.kind === 'silent') {
      // Accepts the request and never answers.
    } else if (b.kind === 'reset') {
      response.socket?.destroy();
    } else {
      // Chunked unless `declared`, when the length is said up front as a server sending a file would.
      const opening = '{"value": [';
      response.writeHead(200, { 'content-type': 'application/json', ...(b.declared ? { 'content-length': String(opening.length + b.megabytes * 1024 * 1024) } : {}) });
      const chunk = Buffer.alloc(1024 * 1024, 0x20);
      let sent = 0;
      const pump = () => {
        while (sent < b.megabytes) {
          sent++;
          if (!response.write(chunk)) return void response.once('drain', pump);
        }
        response.end();
      };
      response.write(opening);
      pump();
    }
  }
}
