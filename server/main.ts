import { createEaselServer } from './app.js';
import { checkFlags, helpText, schemaOptions } from './cli-flags.js';
import { loadConfig, schema, type EaselConfig } from './config.js';
import { isEaselError } from './errors.js';
import { createLogger, type Logger } from './logger.js';
import { createReloader } from './reload.js';

/** How long a graceful shutdown may take before the process exits anyway. */
const SHUTDOWN_GRACE_MS = 1500;

function fail(message: string, hint: string): never {
  // Before the logger exists, or for a line a person must read: plain stderr, one message.
  process.stderr.write(`easel: ${message}\n  ${hint}\n`);
  process.exit(1);
}

const argv = process.argv.slice(2);
const flags = checkFlags(argv, schemaOptions(schema));
if (flags.ok && flags.help) {
  process.stdout.write(helpText(schemaOptions(schema)));
  process.exit(0);
}

let config: EaselConfig;
try {
  config = loadConfig({ argv });
} catch (err) {
  if (isEaselError(err)) fail(err.message, err.hint);
  throw err;
}

const logger: Logger = createLogger(config.log);
// From here on, as early as there is a logger: Node's default for SIGHUP ends the process.
process.on('SIGHUP', createReloader({ argv, logger }, config));
// A promise that failed with nobody to handle it is a bug, but Node's default (end the process)
// would take every screen down with it: log it and go on. A thrown exception still ends the
// process (its state may be broken), and the service manager starts it again with saved state.
process.on('unhandledRejection', (reason) => {
  logger.error({ err: reason }, 'A promise failed with nobody to handle it; the server goes on (a bug: please report this line)');
});
const server = createEaselServer({ config, logger });

let port: number;
try {
  port = await server.listen();
} catch (err) {
  if (isEaselError(err, 'EASEL_ERR_LISTEN_FAILED')) {
    logger.flush();
    fail(err.message, err.hint);
  }
  throw err;
}

const shown = config.host === '0.0.0.0' || config.host === '::' ? 'localhost' : config.host;
logger.info(
  { host: config.host, port, canvases: server.registry.list().map((c) => c.slug) },
  `Easel is streaming: open http://${shown}:${port}/wall, displays connect to ws://${shown}:${port}/ws/<canvas>`,
);

if (server.generatedToken) {
  // Printed once, on stderr so stdout stays JSON lines, and never logged.
  process.stderr.write(
    `\n  Operator token (made for this run; set EASEL_OPERATOR_TOKEN to choose your own):\n  ${server.operatorToken}\n` +
      `  e.g. curl -X POST -H 'Authorization: Bearer ${server.operatorToken}' http://${shown}:${port}/api/canvases/left-canva/next\n\n`,
  );
}

let stopping = false;
function shutdown(signal: string) {
  if (stopping) {
    logger.warn({ signal }, 'Second signal: exiting now');
    process.exit(1);
  }
  stopping = true;
  logger.info({ signal }, 'Shutting down: closing displays and stopping canvases');
  setTimeout(
    () => {
      logger.warn('Shutdown took too long; exiting anyway');
      logger.flush();
      process.exit(0);
    },
    // In a cluster the canvases are handed to other nodes first, which may take up to a lease.
    SHUTDOWN_GRACE_MS + (config.cluster.redisUrl ? config.cluster.leaseMs : 0),
  ).unref();
  void server.close().then(() => {
    logger.info('Stopped');
    logger.flush();
    process.exitCode = 0;
    // uWS has no listen socket or display left, so the process now ends by itself.
  });
}
process.on('SIGINT', () => shutdown('SIGINT'));
process.on('SIGTERM', () => shutdown('SIGTERM'));
