import { Metadata, status } from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { ERROR_CODES, EaselError } from '../errors.js';
import { devServiceTip, isEndpointFailure, plainDetails, toInferenceError } from './grpc-errors.js';

function serviceError(code: number, details: string) {
  return Object.assign(new Error(`${code} ${status[code]}: ${details}`), { code, details, metadata: new Metadata() });
}

describe('toInferenceError', () => {
  it.each([
    [status.UNAVAILABLE, 'EASEL_ERR_INFERENCE_UNAVAILABLE'],
    [status.CANCELLED, 'EASEL_ERR_INFERENCE_UNAVAILABLE'],
    [status.RESOURCE_EXHAUSTED, 'EASEL_ERR_INFERENCE_BUSY'],
    [status.DEADLINE_EXCEEDED, 'EASEL_ERR_INFERENCE_TIMEOUT'],
    [status.INVALID_ARGUMENT, 'EASEL_ERR_INFERENCE_REJECTED'],
    [status.OUT_OF_RANGE, 'EASEL_ERR_INFERENCE_REJECTED'],
    [status.FAILED_PRECONDITION, 'EASEL_ERR_INFERENCE_REJECTED'],
    [status.PERMISSION_DENIED, 'EASEL_ERR_INFERENCE_REJECTED'],
    [status.UNIMPLEMENTED, 'EASEL_ERR_INFERENCE_FAILED'],
    [status.INTERNAL, 'EASEL_ERR_INFERENCE_FAILED'],
    [status.UNKNOWN, 'EASEL_ERR_INFERENCE_FAILED'],
  ])('maps gRPC status %i to %s with a hint', (code, expected) => {
    const err = toInferenceError(serviceError(code, 'the service said why'), '10.0.0.7:50051');
    expect(err).toBeInstanceOf(EaselError);
    const easel = err as EaselError;
    expect(easel.code).toBe(expected);
    expect(easel.code in ERROR_CODES).toBe(true);
    expect(easel.message).toContain('"10.0.0.7:50051"');
    expect(easel.message).toMatch(/: the service said why$/);
    expect(easel.hint.length).toBeGreaterThan(20);
    expect(easel.details).toMatchObject({ endpoint: '10.0.0.7:50051', grpcCode: status[code] });
  });

  it('returns an error that is not from gRPC unchanged', () => {
    const bug = new TypeError('x is undefined');
    expect(toInferenceError(bug, 'a:1')).toBe(bug);
  });

  it('tells endpoint failures from request failures', () => {
    expect(isEndpointFailure(toInferenceError(serviceError(status.UNAVAILABLE, ''), 'a:1'))).toBe(true);
    expect(isEndpointFailure(toInferenceError(serviceError(status.RESOURCE_EXHAUSTED, ''), 'a:1'))).toBe(true);
    expect(isEndpointFailure(toInferenceError(serviceError(status.INVALID_ARGUMENT, ''), 'a:1'))).toBe(false);
  });
});

describe('plainDetails', () => {
  it("takes grpc-js's boilerplate off a connection failure", () => {
    expect(plainDetails('No connection established. Last error: Error: connect ECONNREFUSED 127.0.0.1:1. Resolution note: ')).toBe(
      'connect ECONNREFUSED 127.0.0.1:1',
    );
    expect(plainDetails('Injected fault: image 0 failed')).toBe('Injected fault: image 0 failed');
  });
});

describe('hints name the configured endpoint', () => {
  it('tells how to start the dev stand-in at that address, not at a port of its own', () => {
    expect(devServiceTip('127.0.0.1:50099')).toBe('`npm run inference:dev -- --port 50099` for the dev stand-in');
    expect(devServiceTip('gpu-2:6000')).toBe('`npm run inference:dev -- --host gpu-2 --port 6000` for the dev stand-in');
    expect(devServiceTip('[::1]:7000')).toBe('`npm run inference:dev -- --host ::1 --port 7000` for the dev stand-in');
    const err = toInferenceError(serviceError(status.UNAVAILABLE, 'connect ECONNREFUSED'), '10.0.0.7:6123') as EaselError;
    expect(err.hint).toContain('"10.0.0.7:6123"');
    expect(err.hint).toContain('--port 6123');
    expect(err.hint).not.toContain('50051');
  });
});
