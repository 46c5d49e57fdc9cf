import { describe, expect, it } from 'vitest';
import { parseDevInferenceArgs, startDevInferenceService } from './inference-dev.js';

describe('parseDevInferenceArgs', () => {
  it('defaults to port 50051 on loopback with 207 ms per image and no faults', () => {
    expect(parseDevInferenceArgs([])).toEqual({
      host: '127.0.0.1',
      port: 50051,
      latencyMs: 207,
      maxBatch: 8,
      errorRate: 0,
      hangRate: 0,
      garbageRate: 0,
    });
  });

  it('reads every flag', () => {
    const options = parseDevInferenceArgs([
      '--port',
      '0',
      '--host',
      '0.0.0.0',
      '--latency-ms',
      '60',
      '--error-rate',
      '0.1',
      '--hang-rate',
      '0.05',
      '--garbage-rate',
      '0.2',
      '--fault-seed',
      '9',
      '--max-batch',
      '4',
    ]);
    expect(options).toEqual({
      host: '0.0.0.0',
      port: 0,
      latencyMs: 60,
      maxBatch: 4,
      errorRate: 0.1,
      hangRate: 0.05,
      garbageRate: 0.2,
      faultSeed: 9,
    });
  });

  it('names the flag, the value and what is allowed when a value is bad', () => {
    expect(() => parseDevInferenceArgs(['--error-rate', '2'])).toThrow('Invalid --error-rate "2": expected a number from 0 to 1');
    expect(() => parseDevInferenceArgs(['--port', 'http'])).toThrow('Invalid --port "http": expected an integer from 0 to 65535');
    expect(() => parseDevInferenceArgs(['--error-rate', '0.6', '--garbage-rate', '0.6'])).toThrow('add up to more than 1');
    expect(() => parseDevInferenceArgs(['--latency'])).toThrow();
  });
});

describe('the dev service fault rates at run time', () => {
  it('refuses rates that are out of range or add up to more than 1, and keeps the old ones', async () => {
    const service = await startDevInferenceService({ port: 0, hangRate: 0.5 });
    try {
      expect(() => service.setFaults({ garbageRate: 0.6 })).toThrow('adding up to at most 1');
      expect(() => service.setFaults({ errorRate: -1 })).toThrow(RangeError);
      expect(() => service.setFaults({ hangRate: 0, garbageRate: 1 })).not.toThrow();
    } finally {
      await service.close({ force: true });
    }
  });
});
