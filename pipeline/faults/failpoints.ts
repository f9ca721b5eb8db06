/**
 * Fault injection for the fault tests: `KES_FAILPOINTS=after-commit:0.02,after-send:0.02` makes the guard kill
 * itself (SIGKILL) or stop itself (`stop@after-send:1`, SIGSTOP) with that probability when it reaches the named
 * point of its append path; `fail@after-send:1x1` throws there instead (the step fails as a broker error would, and
 * the process lives on). In-process tests arm them with `setFailpoints`. Unset (always, outside the fault tests) every check is one map lookup.
 *
 *   after-reserve  versions reserved in Redis, nothing produced yet
 *   after-send     events produced inside the open transaction, commit not asked for
 *   in-commit      commit asked for, no answer from Kafka: `fail@in-commit` is a commit call that failed, its
 *                  outcome unknown to the guard (the transaction is left open until the slot's epoch is taken again)
 *   after-commit   transaction committed, nothing confirmed in Redis, no client answered
 *   after-confirm  confirmation sent to Redis (applied or not), no client answered
 *
 * and of a projector's batch (projectors/run/projector.ts):
 *
 *   projector-after-dead-letters  dead letters acknowledged, rows not inserted
 *   projector-after-insert        rows inserted into ClickHouse, offsets not committed (the batch will be replayed)
 *
 * and of the transfers process manager (example/transfers/processManager.ts):
 *
 *   transfers-after-account-step  an account moved money for a transfer; the transfer has not recorded it
 */
export type Failpoint =
  | 'after-reserve'
  | 'after-send'
  | 'in-commit'
  | 'after-commit'
  | 'after-confirm'
  | 'projector-after-dead-letters'
  | 'projector-after-insert'
  | 'transfers-after-account-step';
const POINTS: readonly Failpoint[] = [
  'after-reserve',
  'after-send',
  'in-commit',
  'after-commit',
  'after-confirm',
  'projector-after-dead-letters',
  'projector-after-insert',
  'transfers-after-account-step',
];

interface Rule {
  action: 'kill' | 'stop' | 'fail';
  probability: number;
  /** Fire at most this many times (stop@…:1 pauses once). */
  remaining: number;
}

let rules = parse(process.env.KES_FAILPOINTS ?? '');

/** Replaces the failpoints of this process (tests that run a guard in-process); '' disarms them all. */
export function setFailpoints(spec: string): void {
  rules = parse(spec);
}

function parse(spec: string): Map<string, Rule> {
  const map = new Map<string, Rule>();
  for (const part of spec
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const match = /^(?:(kill|stop|fail)@)?([a-z-]+):(0|1|0?\.\d+|1\.0+)(?:x(\d+))?$/.exec(part);
    if (!match) {
      throw new Error(
        `KES_FAILPOINTS: cannot parse '${part}' (expected [kill|stop|fail@]point:probability[xN], 0 <= p <= 1)`,
      );
    }
    if (!POINTS.includes(match[2] as Failpoint)) {
      throw new Error(`KES_FAILPOINTS: unknown point '${match[2]}' in '${part}'; valid: ${POINTS.join(', ')}`);
    }
    map.set(match[2] as string, {
      action: (match[1] as Rule['action'] | undefined) ?? 'kill',
      probability: Number(match[3]),
      remaining: match[4] === undefined ? Number.POSITIVE_INFINITY : Number(match[4]),
    });
  }
  return map;
}

export function failpoint(point: Failpoint, detail?: string): void {
  if (rules.size === 0) return;
  const rule = rules.get(point);
  if (!rule || rule.remaining <= 0 || Math.random() >= rule.probability) return;
  rule.remaining -= 1;
  process.stderr.write(`failpoint ${point}: ${rule.action}${detail ? ` (${detail})` : ''}\n`);
  if (rule.action === 'fail') throw new Error(`failpoint ${point}: fail${detail ? ` (${detail})` : ''}`);
  process.kill(process.pid, rule.action === 'kill' ? 'SIGKILL' : 'SIGSTOP');
}
