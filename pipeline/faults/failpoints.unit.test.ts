import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../../test/support/waitFor.js';

/**
 * failpoints.ts reads KES_FAILPOINTS once, at import, and kills or stops the whole process: each case runs in a
 * child `node` with its own environment. The child imports the current source, transpiled here (the module has no
 * imports), so the test needs no build and never runs a stale dist/.
 */
let dir: string;
let modulePath: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'kes-failpoints-'));
  const source = readFileSync(fileURLToPath(new URL('./failpoints.ts', import.meta.url)), 'utf8');
  const js = ts.transpileModule(source, {
    compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
  }).outputText;
  modulePath = join(dir, 'failpoints.mjs');
  writeFileSync(modulePath, js);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Child {
  pid: number;
  done: Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>;
}

/** Runs `calls` (failpoint names, in order) in a child with KES_FAILPOINTS set; prints `reached <name>` after each. */
function child(spec: string | undefined, calls: string[]): Child {
  const script = `
    const { failpoint } = await import(${JSON.stringify(modulePath)});
    for (const point of ${JSON.stringify(calls)}) {
      failpoint(point, 'detail-' + point);
      process.stdout.write('reached ' + point + '\\n');
    }
  `;
  const env = { ...process.env };
  delete env.KES_FAILPOINTS;
  if (spec !== undefined) env.KES_FAILPOINTS = spec;
  const proc = spawn(process.execPath, ['--input-type=module', '-e', script], { env, stdio: 'pipe' });
  let stdout = '';
  let stderr = '';
  proc.stdout.on('data', (d: Buffer) => {
    stdout += d.toString();
  });
  proc.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>(
    (resolve) => proc.on('close', (code, signal) => resolve({ code, signal, stdout, stderr })),
  );
  return { pid: proc.pid as number, done };
}

function processState(pid: number): string | undefined {
  try {
    // /proc/<pid>/stat: "pid (comm) S ...": the state letter follows the parenthesised name
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
  } catch {
    return undefined;
  }
}

describe('failpoints', () => {
  it('does nothing when KES_FAILPOINTS is unset or empty', async () => {
    for (const spec of [undefined, '', ' , ']) {
      const r = await child(spec, ['after-reserve', 'after-send', 'after-commit', 'after-confirm']).done;
      expect(r).toMatchObject({ code: 0, signal: null });
      expect(r.stdout).toBe('reached after-reserve\nreached after-send\nreached after-commit\nreached after-confirm\n');
    }
  });

  it.each([
    'bogus',
    'after-commit',
    'after-commit:',
    'after-commit:abc',
    'after-commit:-1',
    'crash@after-commit:1',
    'kill@after-commit:1x',
    'after-commit:1,after-send',
    'After-Commit:1',
    'after-commit:1.2.3',
    'after-commit:.',
    'after-commit:1.5',
    'after-commit:2',
  ])('refuses the spec %j at import, naming the part', async (spec) => {
    const r = await child(spec, ['after-commit']).done;
    expect(r.code).not.toBe(0);
    expect(r.signal).toBeNull();
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(
      /KES_FAILPOINTS: cannot parse '[^']*' \(expected \[kill\|stop\|fail@\]point:probability\[xN\], 0 <= p <= 1\)/,
    );
  });

  it('fail@point throws there instead of killing, as often as armed; setFailpoints re-arms in-process', async () => {
    const { failpoint, setFailpoints } = await import('./failpoints.js');
    setFailpoints('fail@after-send:1x1');
    try {
      expect(() => failpoint('after-send', 'reservation r1')).toThrow('failpoint after-send: fail (reservation r1)');
      expect(() => failpoint('after-send')).not.toThrow();
      expect(() => failpoint('after-commit')).not.toThrow();
      expect(() => setFailpoints('fail@nowhere:1')).toThrow(/unknown point 'nowhere'/);
      // in-commit, unbounded: every commit fails (the guard contract test's 500 outcome_unknown).
      setFailpoints('fail@in-commit:1');
      for (let i = 0; i < 3; i++) expect(() => failpoint('in-commit')).toThrow('failpoint in-commit: fail');
      expect(() => failpoint('after-send')).not.toThrow();
    } finally {
      setFailpoints('');
    }
  });

  it('refuses a point that does not exist, listing the valid ones', async () => {
    const r = await child('after-comit:1', ['after-commit']).done;
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("unknown point 'after-comit'");
    expect(r.stderr).toContain('valid: after-reserve, after-send, in-commit, after-commit, after-confirm');
  });

  it('kill@after-commit:1 kills the process with SIGKILL at that point and no other', async () => {
    const r = await child('kill@after-commit:1', ['after-reserve', 'after-send', 'after-commit', 'after-confirm']).done;
    expect(r.signal).toBe('SIGKILL');
    expect(r.stdout).toBe('reached after-reserve\nreached after-send\n');
    expect(r.stderr).toContain('failpoint after-commit: kill (detail-after-commit)');
  });

  it('kill is the default action; several points may be given', async () => {
    const r = await child('after-reserve:0, after-confirm:1', ['after-reserve', 'after-commit', 'after-confirm']).done;
    expect(r.signal).toBe('SIGKILL');
    expect(r.stdout).toBe('reached after-reserve\nreached after-commit\n');
  });

  it('probability 0 never fires', async () => {
    const calls = Array.from({ length: 200 }, () => 'after-send');
    const r = await child('after-send:0', calls).done;
    expect(r).toMatchObject({ code: 0, signal: null });
  });

  it('stop@after-send:1x1 stops the process once (SIGSTOP), and not again after it is continued', async () => {
    const c = child('stop@after-send:1x1', ['after-reserve', 'after-send', 'after-send', 'after-commit']);
    await waitFor('the child to stop itself', () => processState(c.pid) === 'T', 10_000, 20);
    process.kill(c.pid, 'SIGCONT');
    const r = await c.done;
    expect(r).toMatchObject({ code: 0, signal: null });
    expect(r.stdout).toBe('reached after-reserve\nreached after-send\nreached after-send\nreached after-commit\n');
    expect(r.stderr).toContain('failpoint after-send: stop (detail-after-send)');
  });
});
