import { accountModule } from '../../example/accounts/account.js';
import { partitionOf } from '../../guard/protocol/partitioner.js';
import { formatNumber } from '../support/figures.js';
import { endOffsets } from '../support/kafkaAdmin.js';
import { median } from '../support/latency.js';
import { quietBefore } from '../support/quiet.js';
import { progress } from '../support/run.js';
import { type ColdRow, type CommandRun, deposit, depositEvent } from './commandRun.js';
import { counters, countersBetween } from './measure.js';

const CATEGORY = accountModule.category;
const fmt = (n: number | undefined, digits = 1) => formatNumber(n, digits);

/**
 * Streams of --cold-sizes events in one partition, their cache entry deleted before a command; then the partition
 * grows by --filler events of other streams, a cold load of the smallest stream after each.
 */
export async function coldLoadsPhase(run: CommandRun): Promise<void> {
  const { options, kafka, topic, partitions } = run;
  const url0 = run.urls[0] as string;
  const before = await endOffsets(kafka, topic);
  const coldPartition = [...before.entries()].reduce((a, b) => (b[1] < a[1] ? b : a))[0];
  const idsIn = (kind: string, n: number) => {
    const found: string[] = [];
    for (let i = 0; found.length < n; i++) {
      if (partitionOf(`${CATEGORY}-${kind}-${i}`, partitions) === coldPartition) found.push(`${kind}-${i}`);
    }
    return found;
  };
  const appender = run.appendsAt(url0);
  const cmd0 = run.commandsAt(url0);
  const coldStreams: { id: string; events: number }[] = [];
  for (const size of options.coldSizes) {
    const [streamId] = idsIn(`cold${size}`, 1) as [string];
    await run.open([streamId]);
    // deposits straight into the log (raw appends at the exact version), 100 per append
    for (let version = 0; version < size - 1; version += 100) {
      const n = Math.min(100, size - 1 - version);
      await appender.appendToStream(
        `${CATEGORY}-${streamId}`,
        Array.from({ length: n }, () => depositEvent),
        { expectedVersion: version },
      );
    }
    await cmd0.send(CATEGORY, streamId, 'deposit', deposit); // the state is in the cache from here on
    coldStreams.push({ id: streamId, events: size });
  }
  const cacheKey = (streamId: string) =>
    `${run.redisPrefix}cmd:${CATEGORY}:s${accountModule.stateVersion}:${CATEGORY}-${streamId}`;
  const rows: ColdRow[] = [];
  const measureCold = async (label: string, streamId: string, events: number) => {
    await quietBefore(options);
    const offsetsScanned = (await endOffsets(kafka, topic)).get(coldPartition) ?? 0;
    const row: ColdRow = {
      label,
      events,
      partition: coldPartition,
      offsetsScanned,
      cold: [],
      warm: [],
      eventsRead: [],
      loadsFromLog: 0,
    };
    if ((await run.redis.exists(cacheKey(streamId))) !== 1) throw new Error(`no cache entry at ${cacheKey(streamId)}`);
    for (let i = 0; i < options.samples; i++) {
      await run.redis.del(cacheKey(streamId));
      const m0 = await counters(run.http.slice(0, 1));
      let t = performance.now();
      await cmd0.send(CATEGORY, streamId, 'deposit', deposit);
      row.cold.push(performance.now() - t);
      const m1 = countersBetween(m0, await counters(run.http.slice(0, 1)));
      row.eventsRead.push(m1.eventsRead);
      row.loadsFromLog += m1.loadsFromLog;
      t = performance.now();
      await cmd0.send(CATEGORY, streamId, 'deposit', deposit);
      row.warm.push(performance.now() - t);
    }
    rows.push(row);
    progress(
      `  cold ${label}: ${fmt(median(row.cold))} ms vs warm ${fmt(median(row.warm))} ms, ${fmt(offsetsScanned, 0)} offsets in partition ${coldPartition}`,
    );
  };
  progress(
    `cold loads in partition ${coldPartition} (${fmt(before.get(coldPartition), 0)} offsets before the streams)`,
  );
  for (const s of coldStreams) await measureCold(`${fmt(s.events, 0)} events`, s.id, s.events);
  let fillerAdded = 0;
  const smallest = coldStreams[0];
  const fillIds = idsIn('fill', 10);
  for (const target of options.filler) {
    if (!smallest || target <= fillerAdded) continue;
    const batches: number[] = [];
    for (let left = target - fillerAdded; left > 0; left -= 500) batches.push(Math.min(500, left));
    progress(
      `adding ${fmt(target - fillerAdded, 0)} events to partition ${coldPartition} (${fillIds.length} other streams)`,
    );
    let next = 0;
    await Promise.all(
      Array.from({ length: 4 }, async () => {
        while (next < batches.length) {
          const b = next++;
          const n = batches[b] as number;
          await appender.appendToStream(
            `${CATEGORY}-${fillIds[b % fillIds.length]}`,
            Array.from({ length: n }, () => depositEvent),
            { expectedVersion: 'any' },
          );
          fillerAdded += n;
        }
      }),
    );
    await measureCold(
      `${fmt(smallest.events, 0)} events, +${fmt(fillerAdded, 0)} in its partition`,
      smallest.id,
      smallest.events,
    );
  }
  run.cold = { partition: coldPartition, fillerAdded, rows };
}
