/**
 * The soak's faults, decided before anything runs: a seeded, endless sequence of what to break next, where, for how
 * long, and how long to wait before it. The injectors (injectors.ts) only carry it out, so a run can be repeated
 * with its seed and the plan tested without services.
 *
 * Faults come in rounds: every round is a shuffle of the kinds it includes, so the mix stays even however long the
 * run. A kind with a period p > 1 is in round 0 and every p-th round after it (a full Redis wipe makes every guard
 * read the whole log back, which takes longer the longer the run: it is the one kind that is rare by default).
 */
export const FAULT_KINDS = [
  'guard-kill',
  'guard-kill-failpoint',
  'guard-stop',
  'guard-zombie-failpoint',
  'redis-crash',
  'redis-rollback',
  'redis-wipe',
  'broker-restart',
  'broker-kill',
  'lost-answers',
  'projector-kill',
  'clickhouse-kill',
] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

/** What each kind does, for the summary and --help. */
export const FAULT_DESCRIPTIONS: Record<FaultKind, string> = {
  'guard-kill': 'a guard killed -9 from outside, restarted after a pause',
  'guard-kill-failpoint':
    'the guards restarted in turn with a failpoint armed: the first to reach it kills itself -9 there',
  'guard-stop': 'a guard stopped (SIGSTOP) past its reservations and woken (SIGCONT)',
  'guard-zombie-failpoint':
    'the guards restarted in turn with a stop failpoint: the first frozen there past its lease, then woken',
  'redis-crash': 'Redis killed -9 and restarted from its AOF (loses up to the last second)',
  'redis-rollback': 'Redis killed and restarted from a snapshot taken seconds earlier',
  'redis-wipe': 'Redis killed and restarted empty (every guard reads the whole log back)',
  'broker-restart': 'the Kafka broker shut down cleanly and started again',
  'broker-kill': 'the Kafka broker killed -9 and started again over its data',
  'lost-answers': 'the proxies in front of the guards throw away 15% of successful answers for a while',
  'projector-kill': 'a projector killed -9 mid-batch, restarted after a pause',
  'clickhouse-kill': 'the ClickHouse process killed -9 mid-insert, restarted over its data',
};

export const KILL_FAILPOINTS = ['after-reserve', 'after-send', 'after-commit', 'after-confirm'] as const;
export const STOP_FAILPOINTS = ['after-reserve', 'after-send'] as const;
export type GuardFailpoint = (typeof KILL_FAILPOINTS)[number];

export interface PlannedFault {
  /** 0, 1, 2, … in the order they are injected. */
  index: number;
  round: number;
  kind: FaultKind;
  /** Pause after the previous fault was carried out, before this one. */
  gapMs: number;
  /** Which guard or projector (an index into those running); 0 for the single services. */
  target: number;
  /** The failpoint of the failpoint kinds. */
  failpoint?: GuardFailpoint;
  /**
   * How long the fault lasts: the pause before a killed process is restarted, a SIGSTOP's length, the window of
   * lost answers, the age of the snapshot Redis is rolled back to. 0 where it means nothing.
   */
  durationMs: number;
}

export interface ScheduleOptions {
  seed: number;
  kinds: readonly FaultKind[];
  guards: number;
  projectors: number;
  /** Mean pause between faults; each gap is drawn from [0.5, 1.5] times it. */
  meanGapMs: number;
  /** Kinds that come only every p-th round (default: redis-wipe every 4th). */
  periods?: Partial<Record<FaultKind, number>>;
  /** The guards' lease: a zombie stays frozen past it. @default 3000 */
  leaseMs?: number;
}

export const DEFAULT_PERIODS: Partial<Record<FaultKind, number>> = { 'redis-wipe': 4 };

/** A small seeded generator (mulberry32): the same seed gives the same plan on every machine. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

export function* faultSchedule(options: ScheduleOptions): Generator<PlannedFault> {
  if (options.kinds.length === 0) return;
  if (options.guards < 1) throw new RangeError(`faultSchedule: guards must be at least 1 (got ${options.guards})`);
  const random = seededRandom(options.seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  const between = (min: number, max: number) => Math.round(min + random() * (max - min));
  const periods = { ...DEFAULT_PERIODS, ...options.periods };
  const leaseMs = options.leaseMs ?? 3_000;
  let index = 0;
  for (let round = 0; ; round++) {
    const kinds = options.kinds.filter((k) => round % Math.max(1, periods[k] ?? 1) === 0);
    // Fisher-Yates with the seeded generator.
    for (let i = kinds.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [kinds[i], kinds[j]] = [kinds[j] as FaultKind, kinds[i] as FaultKind];
    }
    for (const kind of kinds) {
      const gapMs = between(options.meanGapMs * 0.5, options.meanGapMs * 1.5);
      const fault: PlannedFault = { index: index++, round, kind, gapMs, target: 0, durationMs: 0 };
      switch (kind) {
        case 'guard-kill':
          fault.target = Math.floor(random() * options.guards);
          fault.durationMs = between(100, 1_500);
          break;
        case 'guard-kill-failpoint':
          fault.target = Math.floor(random() * options.guards);
          fault.failpoint = pick(KILL_FAILPOINTS);
          fault.durationMs = between(100, 1_500);
          break;
        case 'guard-stop':
          fault.target = Math.floor(random() * options.guards);
          fault.durationMs = between(1_500, 5_000);
          break;
        case 'guard-zombie-failpoint':
          fault.target = Math.floor(random() * options.guards);
          fault.failpoint = pick(STOP_FAILPOINTS);
          fault.durationMs = between(leaseMs + 500, leaseMs + 3_000);
          break;
        case 'redis-rollback':
          fault.durationMs = between(1_000, 5_000);
          break;
        case 'lost-answers':
          fault.durationMs = between(2_000, 6_000);
          break;
        case 'projector-kill':
          fault.target = Math.floor(random() * Math.max(1, options.projectors));
          fault.durationMs = between(100, 2_000);
          break;
        case 'clickhouse-kill':
          fault.durationMs = between(200, 2_000);
          break;
        default:
          break;
      }
      yield fault;
    }
  }
}

/** Parses a --faults list ('all', or kinds separated by commas), naming the bad one. */
export function parseFaultKinds(spec: string): FaultKind[] {
  if (spec.trim() === 'all') return [...FAULT_KINDS];
  if (spec.trim() === 'none' || spec.trim() === '') return [];
  const kinds = spec.split(',').map((s) => s.trim());
  for (const kind of kinds) {
    if (!(FAULT_KINDS as readonly string[]).includes(kind)) {
      throw new RangeError(`--faults: unknown fault '${kind}'; known: all, none, ${FAULT_KINDS.join(', ')}`);
    }
  }
  return [...new Set(kinds as FaultKind[])];
}
