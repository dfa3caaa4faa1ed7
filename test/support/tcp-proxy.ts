import { createServer, connect, type Server, type Socket } from 'node:net';

interface Pair {
  client: Socket;
  upstream: Socket;
  silent: boolean;
  /** The application_name of its startup message. */
  name?: string;
}

/**
 * The address a service knows its database by (a DNS name or a virtual IP), forwarding to whichever server is
 * the primary now. `partition()` is a primary that vanishes without closing anything, as in a failover: open
 * connections go silent (nothing forwarded either way, nothing closed) and new ones are refused until
 * `switchTo()` points the address at the new primary.
 */
export class TcpProxy {
  private server?: Server;
  private readonly pairs = new Set<Pair>();
  private refusing = false;
  port = 0;

  constructor(private upstreamPort: number) {}

  async start(): Promise<number> {
    this.server = createServer((client) => this.forward(client));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as { port: number }).port;
    return this.port;
  }

  /** `url` with this proxy's port. */
  urlFor(url: string): string {
    const parsed = new URL(url);
    parsed.port = String(this.port);
    return parsed.toString();
  }

  partition(): void {
    this.refusing = true;
    for (const pair of this.pairs) {
      pair.silent = true;
      pair.client.unpipe(pair.upstream);
      pair.upstream.unpipe(pair.client);
      // What the service sends is swallowed; its FIN (it let the connection go) is the end of it.
      pair.client.on('data', () => undefined);
      pair.client.on('end', () => pair.client.destroy());
      pair.client.resume();
    }
  }

  switchTo(port: number): void {
    this.upstreamPort = port;
    this.refusing = false;
  }

  /** Connections left silent by a partition that the service has not dropped yet, by application_name. */
  silentConnections(): string[] {
    return [...this.pairs].filter((p) => p.silent && !p.client.destroyed).map((p) => p.name ?? '?');
  }

  async stop(): Promise<void> {
    for (const { client, upstream } of this.pairs) {
      client.destroy();
      upstream.destroy();
    }
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  private forward(client: Socket): void {
    if (this.refusing) {
      client.destroy();
      return;
    }
    const upstream = connect(this.upstreamPort, '127.0.0.1');
    const pair: Pair = { client, upstream, silent: false };
    this.pairs.add(pair);
    client.once('data', (startup: Buffer) => {
      const fields = startup.subarray(8).toString('latin1').split('\0');
      const at = fields.indexOf('application_name');
      pair.name = at >= 0 ? fields[at + 1] : undefined;
    });
    client.pipe(upstream);
    upstream.pipe(client);
    const close = () => {
      // A silent connection stays open at the client's end whatever becomes of the old server.
      if (!pair.silent) {
        client.destroy();
        upstream.destroy();
      }
      if (client.destroyed) this.pairs.delete(pair);
    };
    client.on('close', () => {
      upstream.destroy();
      this.pairs.delete(pair);
    });
    upstream.on('close', close);
    client.on('error', () => undefined);
    upstream.on('error', () => undefined);
  }
}
