import Fastify, { type FastifyInstance, type FastifyPluginAsync } from 'fastify';

/**
 * A simulator's routes served on their own port (`npm run sim:*`, tests), where the demo mounts the same
 * plugin under a prefix of the service's own server.
 */
export function standaloneServer(plugin: FastifyPluginAsync) {
  let server: FastifyInstance | undefined;
  return {
    /** Serves the plugin at the root of a new server; answers its base URL. */
    async listen(port = 0, host = '127.0.0.1'): Promise<string> {
      server = Fastify({ logger: false });
      await server.register(plugin);
      await server.listen({ port, host });
      const address = server.server.address() as { port: number };
      return `http://${host}:${address.port}`;
    },
    async close(): Promise<void> {
      await server?.close();
    },
  };
}

/**
 * JSON bodies parsed by the simulator itself (an empty body is `undefined`, a malformed one a 400), so that it
 * answers alike whatever parsers the host it is mounted in has set up.
 */
export function parseJsonBodies(instance: FastifyInstance): void {
  instance.removeAllContentTypeParsers();
  instance.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => {
    try {
      done(null, body === '' ? undefined : JSON.parse(body as string));
    } catch {
      done(Object.assign(new Error('The request body is not valid JSON.'), { statusCode: 400 }), undefined);
    }
  });
}
