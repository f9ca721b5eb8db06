import type { Redis } from 'ioredis';
import type { Kafka } from 'kafkajs';
import type { CommandClient } from '../../guard/client/commandClient.js';
import type { GuardClient } from '../../guard/client/guardClient.js';
import type { HttpLoadClient } from '../../verify/load/httpLoad.js';
import type { CpuMeter } from '../support/cpuMeter.js';
import type { Measured } from './measure.js';
import type { Options } from './options.js';

export interface DistinctResult {
  clients: number;
  /** GuardClient.appendToStream (fetch) */
  raw: Measured;
  /** the same appends through node:http (HttpLoadClient, the client of bench:guard) */
  rawNodeHttp: Measured;
  command: Measured;
}

export interface ColdRow {
  label: string;
  events: number;
  partition: number;
  offsetsScanned: number;
  cold: number[];
  warm: number[];
  eventsRead: number[];
  loadsFromLog: number;
}

/** What the phases of bench:commands share: two guards of the run's own, and each phase's figures. */
export interface CommandRun {
  id: string;
  options: Options;
  kafka: Kafka;
  redis: Redis;
  redisPrefix: string;
  topic: string;
  partitions: number;
  urls: string[];
  /** node:http clients of the guards, one each (metrics, and the node:http raw appends of guard 0). */
  http: HttpLoadClient[];
  cpu: CpuMeter;
  closers: (() => void)[];
  commandsAt: (url: string) => CommandClient;
  appendsAt: (url: string) => GuardClient;
  /** Opens these accounts (commands), `concurrency` at a time. */
  open: (ids: readonly string[], concurrency?: number) => Promise<void>;
  distinct: DistinctResult[];
  hot?: { id: string; partition: number; oneGuard: Measured; twoGuards: Measured };
  cold?: { partition: number; fillerAdded: number; rows: ColdRow[] };
}

export const deposit = { amount: 1, currency: 'EUR' };
export const depositEvent = { type: 'MoneyDeposited', data: { ...deposit, transferId: null } };
