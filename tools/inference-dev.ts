/**
 * `npm run inference:dev -- --port 50051 [--latency-ms 207] [--host 127.0.0.1]
 *   [--error-rate 0.1] [--hang-rate 0] [--garbage-rate 0] [--fault-seed N] [--max-batch 8]`
 *
 * Starts the dev inference service (tools/inference-dev/service.ts): a stand-in for the GPU
 * service that draws pictures procedurally, so Easel streams generated frames on any machine.
 * Point Easel at it with `--inference 127.0.0.1:50051`. SIGUSR2 turns the injected faults off
 * and on again.
 */
import { realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { createLogger } from '../server/logger.js';
import { startDevInferenceService, type DevInferenceServiceOptions } from './inference-dev/service.js';

export { startDevInferenceService } from './inference-dev/service.js';
export type { DevFaultRates, DevInferenceService, DevInferenceServiceOptions, DevInferenceStats } from './inference-dev/service.js';

const USAGE =
  'Usage: npm run inference:dev -- --port 50051 [--host 127.0.0.1] [--latency-ms 207] [--error-rate 0] [--hang-rate 0] [--garbage-rate 0] [--fault-seed N] [--max-batch 8]';

/** Reads the command line into service options; throws a message fit for the terminal. */
export function parseDevInferenceArgs(argv: string[]): DevInferenceServiceOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      port: { type: 'string', default: '50051' },
      host: { type: 'string', default: '127.0.0.1' },
      'latency-ms': { type: 'string', default: '207' },
      'error-rate': { type: 'string', default: '0' },
      'hang-rate': { type: 'string', default: '0' },
      'garbage-rate': { type: 'string', default: '0' },
      'fault-seed': { type: 'string' },
      'max-batch': { type: 'string', default: '8' },
    },
    strict: true,
  });
  const number = (name: keyof typeof values, low: number, high: number, integer: boolean) => {
    const raw = values[name];
    const value = Number(raw);
    if (raw === '' || !Number.isFinite(value) || value < low || value > high || (integer && !Number.isInteger(value))) {
      throw new Error(`Invalid --${name} "${raw}": expected ${integer ? 'an integer' : 'a number'} from ${low} to ${high}`);
    }
    return value;
  };
  const rates = {
    errorRate: number('error-rate', 0, 1, false),
    hangRate: number('hang-rate', 0, 1, false),
    garbageRate: number('garbage-rate', 0, 1, false),
  };
  if (rates.errorRate + rates.hangRate + rates.garbageRate > 1) {
    throw new Error('Invalid fault rates: --error-rate, --hang-rate and --garbage-rate add up to more than 1');
  }
  return {
    host: values.host,
    port: number('port', 0, 65535, true),
    latencyMs: number('latency-ms', 0, 600_000, true),
    maxBatch: number('max-batch', 1, 64, true),
    ...rates,
    ...(values['fault-seed'] === undefined ? {} : { faultSeed: number('fault-seed', 0, 2 ** 31, true) }),
  };
}

async function main(): Promise<void> {
  const log = createLogger({ level: 'info', pretty: 'auto' }).child({ name: 'inference-dev' });
  let options: DevInferenceServiceOptions;
  try {
    options = parseDevInferenceArgs(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n${USAGE}\n`);
    process.exit(2);
  }
  const service = await startDevInferenceService({ ...options, logger: log });
  log.info(`Point Easel at it with --inference ${service.address}`);
  let signals = 0;
  const stop = (signal: string) => {
    signals += 1;
    if (signals > 1) process.exit(1);
    log.info({ signal }, 'Stopping the dev inference service');
    // A graceful stop cancels running calls at once, so this limit is only a safety net.
    setTimeout(() => process.exit(1), 5_000).unref();
    void service.close().then(() => process.exit(0));
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  // Lets a technician mend and break a running stand-in by hand (`kill -USR2 <pid>`), to watch
  // Easel leave its fallback and go back to it without restarting anything.
  let faulty = true;
  process.on('SIGUSR2', () => {
    faulty = !faulty;
    const { errorRate = 0, hangRate = 0, garbageRate = 0 } = faulty ? options : {};
    service.setFaults({ errorRate, hangRate, garbageRate });
  });
}

/** Whether this file is the program (`tsx tools/inference-dev.ts`) rather than imported by a test. */
function isMain(): boolean {
  try {
    return process.argv[1] !== undefined && import.meta.url === pathToFileURL(realpathSync(process.argv[1])).href;
  } catch {
    return false;
  }
}

if (isMain()) {
  main().catch((err: unknown) => {
    process.stderr.write(`Cannot start the dev inference service: ${(err as Error).message}\n`);
    process.exit(1);
  });
}
