import { decodeHeaders, encodeHeaders, parseEventTime } from '../pipeline/events/eventRecord.js';

/**
 * What the CloudEvents header names cost a reader (issue 14), side by side with what they replaced, in one run:
 * reading the event time as RFC 3339 (ce_time) against epoch ms digits (the old kes-time), and decoding a whole
 * record's headers written today against one written by an older kes (read through the legacy-name fallback).
 * Prints ns per record, the empty loop subtracted; three rounds, because the machine is shared.
 *
 *   npm run build && node dist/bench/eventHeadersBench.js
 */
const N = 2_000_000;
const base = Date.now();
const iso = Array.from({ length: 1024 }, (_, i) => new Date(base + i * 7).toISOString());
const epoch = iso.map((s) => String(Date.parse(s)));
const current = iso.map((_, i) =>
  Object.fromEntries(
    Object.entries(
      encodeHeaders({
        stream: 'account-1',
        version: i,
        eventId: `e${i}`,
        type: 'T',
        timeMs: base + i,
        contentHash: 'h',
      }),
    ).map(([k, v]) => [k, Buffer.from(v)]),
  ),
);
const legacy = epoch.map((t, i) => ({
  'kes-stream': Buffer.from('account-1'),
  'kes-version': Buffer.from(String(i)),
  'kes-event-id': Buffer.from(`e${i}`),
  'kes-type': Buffer.from('T'),
  'kes-time': Buffer.from(t),
  'kes-hash': Buffer.from('h'),
}));

function nsPer<T>(inputs: readonly T[], f: (x: T) => number): number {
  let sink = 0;
  const started = process.hrtime.bigint();
  for (let i = 0; i < N; i++) sink += f(inputs[i & 1023] as T) & 1;
  const ns = Number(process.hrtime.bigint() - started) / N;
  if (sink < 0) console.log(sink);
  return ns;
}

for (let round = 1; round <= 3; round++) {
  const loop = nsPer(iso, (s) => s.length);
  const figure = (ns: number) => `${Math.max(0, ns - loop).toFixed(0)} ns`;
  console.log(
    `round ${round}: ${[
      `time as epoch ms (kes-time, before) ${figure(nsPer(epoch, Number))}`,
      `time as RFC 3339 (ce_time, parseEventTime) ${figure(nsPer(iso, parseEventTime))}`,
      `(Date.parse ${figure(nsPer(iso, Date.parse))})`,
      `decodeHeaders, current names ${figure(nsPer(current, (h) => decodeHeaders(h)?.version ?? 0))}`,
      `decodeHeaders, older names ${figure(nsPer(legacy, (h) => decodeHeaders(h)?.version ?? 0))}`,
    ].join('; ')}`,
  );
}
