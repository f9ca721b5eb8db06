import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { StackPorts } from './services/service.js';

/** What `<KES_HOME>/stack.json` remembers between commands: the mode and the ports chosen at the first `up`. */
export interface StackState {
  mode: 'local' | 'docker';
  ports?: StackPorts;
  /** Kafka nodes of a local cluster (`--kafka-brokers`); absent means one. */
  kafkaNodes?: number;
  /** Redis replicas of a local Sentinel group (`--redis-replicas`); absent means none (one Redis, no sentinels). */
  redisReplicas?: number;
}

export function stackStatePath(home: string): string {
  return join(home, 'stack.json');
}

export function readStackState(home: string): StackState | undefined {
  try {
    return JSON.parse(readFileSync(stackStatePath(home), 'utf8')) as StackState;
  } catch {
    return undefined;
  }
}

export function writeStackState(home: string, state: StackState): void {
  writeFileSync(stackStatePath(home), `${JSON.stringify(state, null, 2)}\n`);
}
