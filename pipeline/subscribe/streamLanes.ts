/**
 * Runs `deliver` over the records at `indices` of a partition's slice: in offset order, or, with `lanes` > 1, several
 * streams side by side (records grouped by key, each stream's records in order). Stops taking records once one is
 * not delivered (`deliver` answered false): what follows it is delivered again later, and so must not run now.
 */
export async function runInStreamLanes(
  indices: readonly number[],
  keyAt: (i: number) => string,
  lanes: number,
  deliver: (i: number) => Promise<boolean>,
): Promise<void> {
  if (lanes === 1) {
    for (const i of indices) if (!(await deliver(i))) return;
    return;
  }
  const byStream = new Map<string, number[]>();
  for (const i of indices) {
    const key = keyAt(i);
    const queue = byStream.get(key);
    if (queue) queue.push(i);
    else byStream.set(key, [i]);
  }
  const queues = [...byStream.values()];
  let stopped = false;
  const lane = async () => {
    for (let queue = queues.shift(); queue && !stopped; queue = queues.shift()) {
      for (const i of queue) {
        if (stopped || !(await deliver(i))) {
          stopped = true;
          return;
        }
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(lanes, queues.length) }, lane));
}
