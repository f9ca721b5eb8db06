import { KafkaJSError, KafkaJSGroupCoordinatorNotFound, KafkaJSNonRetriableError } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { isTransientKafkaError } from './transientErrors.js';

// kafkajs's typings leave out the constructors' arguments that its JavaScript takes.
type ErrorClass = new (message: string, options?: { retriable?: boolean; cause?: unknown }) => Error;
const CoordinatorNotFound = KafkaJSGroupCoordinatorNotFound as unknown as ErrorClass;
const NonRetriable = KafkaJSNonRetriableError as unknown as ErrorClass;
const KafkaError = KafkaJSError as unknown as ErrorClass;

describe('isTransientKafkaError', () => {
  it('takes a missing group coordinator as transient, although kafkajs marks it non-retriable', () => {
    const error = new CoordinatorNotFound('Failed to find group coordinator');
    expect((error as unknown as { retriable: boolean }).retriable).toBe(false);
    expect(isTransientKafkaError(error)).toBe(true);
  });

  it('looks through causes, and takes what kafkajs calls retriable', () => {
    const cause = new KafkaError('connect ECONNREFUSED', { retriable: true });
    expect(isTransientKafkaError(new NonRetriable('stopped', { cause }))).toBe(true);
    const wrapped = new Error('writing failed', { cause: new CoordinatorNotFound('x') });
    expect(isTransientKafkaError(wrapped)).toBe(true);
  });

  it('keeps everything else final', () => {
    expect(isTransientKafkaError(new NonRetriable('Not authorized to access group'))).toBe(false);
    expect(isTransientKafkaError(new Error('handler failed'))).toBe(false);
    expect(isTransientKafkaError('a string')).toBe(false);
    expect(isTransientKafkaError(undefined)).toBe(false);
  });
});
