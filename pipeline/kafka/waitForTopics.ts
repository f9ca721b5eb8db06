import type { Kafka } from 'kafkajs';

/**
 * Returns once every one of `topics` exists (or `stopping()` says to give up), asking the broker every 500 ms and
 * saying once which are missing. A category's topic is created by the first append to it: until then a reader of it
 * has nothing to read.
 */
export async function waitForTopics(
  kafka: Kafka,
  topics: readonly string[],
  stopping: () => boolean,
  log: (line: string) => void,
): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    let said = false;
    for (;;) {
      const existing = new Set(await admin.listTopics());
      const missing = topics.filter((t) => !existing.has(t));
      if (missing.length === 0 || stopping()) return;
      if (!said) log(`waiting for topic(s) ${missing.join(', ')}`);
      said = true;
      await new Promise((r) => setTimeout(r, 500));
    }
  } finally {
    await admin.disconnect().catch(() => {});
  }
}
