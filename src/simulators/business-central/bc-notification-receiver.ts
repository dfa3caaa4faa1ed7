import type { FastifyPluginAsync } from 'fastify';
import { parseJsonBodies, standaloneServer } from '../standalone.js';

/** How the receiver answers Business Central's handshake: with the token, with something else, with 500, or with the token too late. */
export type HandshakeAnswer = 'echo' | 'wrong' | 'refuse' | { echoAfterMs: number };

/**
 * A notification URL for Business Central's webhooks, for the tests and the simulator's users: it answers the
 * handshake (a POST with `validationToken` in the query) as `answerHandshakes` says, 200 with the token unless
 * told otherwise, and records it; it records every batch of notifications (any other POST) and answers it 202.
 */
export function createBcNotificationReceiver() {
  const received = {
    handshakes: [] as Array<{ path: string; token: string }>,
    batches: [] as Array<{ path: string; body: unknown }>,
  };
  let how: HandshakeAnswer = 'echo';

  const plugin: FastifyPluginAsync = async (instance) => {
    parseJsonBodies(instance);
    instance.post('/*', async (request, reply) => {
      const [path, query] = request.url.split('?');
      const token = new URLSearchParams(query ?? '').get('validationToken');
      if (token === null) {
        received.batches.push({ path: path!, body: request.body });
        return reply.status(202).send();
      }
      received.handshakes.push({ path: path!, token });
      const answer = how;
      if (answer === 'refuse') return reply.status(500).send();
      if (answer === 'wrong') return reply.status(200).type('text/plain').send(`not ${token}`);
      if (typeof answer === 'object') await new Promise((resolve) => setTimeout(resolve, answer.echoAfterMs));
      return reply.status(200).type('text/plain').send(token);
    });
  };

  const server = standaloneServer(plugin);
  return {
    plugin,
    received,
    /** How the next handshakes are answered. */
    answerHandshakes(answer: HandshakeAnswer): void {
      how = answer;
    },
    listen: server.listen,
    close: server.close,
  };
}

export type BcNotificationReceiver = ReturnType<typeof createBcNotificationReceiver>;
