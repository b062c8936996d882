/**
 * Child process for the crash test (tests/e2e/apply-crash.test.ts): starts the whole server on a
 * data dir, then appends CreateMqttUser commands in a loop through handleCommand, printing
 * `ACK <seq>` after each acknowledged append, yielding now and then so applies run mid-burst.
 * The parent SIGKILLs it at some point. Usage: node apply-burst-child.ts <config-json> <count>
 */
import { handleCommand } from '../../core/handle-command.ts';
import type { Config } from '../../adapters/config/config.ts';
import { createLogger } from '../../adapters/logging/logger.ts';
import { startServer } from '../../adapters/main.ts';
import { createMosquittoHasher } from '../../adapters/mosquitto/password-hash.ts';

const config = JSON.parse(process.argv[2] ?? '{}') as Config;
const count = Number(process.argv[3] ?? '1000');
const server = await startServer({ config, logger: createLogger({ level: 'silent' }) });
const hash = await createMosquittoHasher().hash('burst-pw', server.store.state().settings.hashIterations);
process.stdout.write('READY\n');
const clock = { now: () => new Date().toISOString() };
for (let i = 0; i < count; i++) {
  const { seq } = handleCommand({ store: server.store, clock }, { type: 'CreateMqttUser', data: { username: `crash-${i}`, passwordHash: hash } }, {
    actor: { kind: 'cli', id: 'burst' },
  });
  process.stdout.write(`ACK ${seq}\n`);
  if (i % 7 === 0) await new Promise((r) => setTimeout(r, 2));
}
process.stdout.write('DONE\n');
await server.stop();
