import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { round } from '../support/figures.js';

/** CPU profile of this process's main thread (inspector), summarised by where the code comes from. */

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}

export interface ProfileSummary {
  file: string;
  sampledS: number;
  byOrigin: { origin: string; percent: number }[];
  topFunctions: { fn: string; percent: number }[];
}

function originOf(url: string, fn: string): string {
  if (url === '') {
    if (fn === '(garbage collector)') return 'garbage collection';
    if (fn === '(idle)') return 'idle';
    if (fn === '(program)') return '(program: native, not JS)';
    return `native: ${fn || '(anonymous)'}`;
  }
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return pkg[1] as string;
  if (url.startsWith('node:')) return 'node internals';
  const own = /\/dist\/([^/]+(?:\/[^/]+)?)\//.exec(url);
  if (own) return `kes ${own[1]}`;
  return url;
}

function summarizeProfile(file: string, profile: { nodes: ProfileNode[]; samples?: number[] }): ProfileSummary {
  const self = new Map<number, number>();
  for (const id of profile.samples ?? []) self.set(id, (self.get(id) ?? 0) + 1);
  const total = profile.samples?.length ?? 0;
  const byOrigin = new Map<string, number>();
  const byFn = new Map<string, number>();
  for (const node of profile.nodes) {
    const hits = self.get(node.id) ?? 0;
    if (hits === 0) continue;
    const { functionName, url, lineNumber } = node.callFrame;
    const origin = originOf(url, functionName);
    byOrigin.set(origin, (byOrigin.get(origin) ?? 0) + hits);
    const where = url === '' ? '' : ` ${url.replace(/^.*\/(node_modules|dist)\//, '')}:${lineNumber + 1}`;
    const key = `${functionName || '(anonymous)'}${where}`;
    byFn.set(key, (byFn.get(key) ?? 0) + hits);
  }
  const pct = (n: number) => round((100 * n) / Math.max(1, total), 1);
  return {
    file,
    sampledS: round(total / 1000, 1),
    byOrigin: [...byOrigin]
      .sort((a, b) => b[1] - a[1])
      .slice(0, 14)
      .map(([origin, n]) => ({ origin, percent: pct(n) })),
    topFunctions: [...byFn]
      .sort((a, b) => b[1] - a[1])
      .slice(0, 15)
      .map(([fn, n]) => ({ fn, percent: pct(n) })),
  };
}

export class Profiler {
  private readonly session = new Session();
  private connected = false;

  async start(): Promise<void> {
    if (!this.connected) {
      this.session.connect();
      this.connected = true;
      await this.session.post('Profiler.enable');
      await this.session.post('Profiler.setSamplingInterval', { interval: 1000 });
    }
    await this.session.post('Profiler.start');
  }

  /** Stops the profile, writes it to `file` (open it in Chrome's DevTools) and answers its summary. */
  async stop(file: string): Promise<ProfileSummary> {
    const { profile } = (await this.session.post('Profiler.stop')) as unknown as {
      profile: { nodes: ProfileNode[]; samples?: number[] };
    };
    writeFileSync(file, JSON.stringify(profile));
    return summarizeProfile(file, profile);
  }

  close(): void {
    if (this.connected) this.session.disconnect();
  }
}
