/**
 * Prometheus' text exposition format (what prom-client serves at /metrics), read into samples. Only what the
 * dashboard needs: `name{label="value",…} value` lines; comments (# HELP, # TYPE) and timestamps are skipped.
 */
export interface Sample {
  name: string;
  labels: Readonly<Record<string, string>>;
  value: number;
}

export class MetricsTextError extends Error {
  constructor(
    readonly line: number,
    readonly text: string,
    why: string,
  ) {
    super(`metrics text, line ${line}: ${why}: ${text.slice(0, 120)}`);
    this.name = 'MetricsTextError';
  }
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*/;

export function parsePrometheusText(text: string): Sample[] {
  const samples: Sample[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = (lines[i] ?? '').trim();
    if (line === '' || line.startsWith('#')) continue;
    samples.push(parseLine(line, i + 1));
  }
  return samples;
}

function parseLine(line: string, lineNo: number): Sample {
  const name = NAME.exec(line)?.[0];
  if (name === undefined) throw new MetricsTextError(lineNo, line, 'no metric name');
  let rest = line.slice(name.length);
  const labels: Record<string, string> = {};
  if (rest.startsWith('{')) {
    const end = labelsEnd(rest, lineNo, line);
    readLabels(rest.slice(1, end), labels, lineNo, line);
    rest = rest.slice(end + 1);
  }
  const [valueText] = rest.trim().split(/\s+/);
  const value = parseValue(valueText ?? '');
  if (value === undefined) throw new MetricsTextError(lineNo, line, 'not a number');
  return { name, labels, value };
}

/** The index of the `}` closing the label set, skipping braces inside quoted values. */
function labelsEnd(rest: string, lineNo: number, line: string): number {
  let quoted = false;
  for (let i = 1; i < rest.length; i++) {
    const c = rest[i];
    if (quoted && c === '\\') i++;
    else if (c === '"') quoted = !quoted;
    else if (!quoted && c === '}') return i;
  }
  throw new MetricsTextError(lineNo, line, 'unclosed label set');
}

function readLabels(body: string, into: Record<string, string>, lineNo: number, line: string): void {
  const label = /\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*=\s*"((?:[^"\\]|\\.)*)"\s*,?/y;
  let at = 0;
  while (at < body.length) {
    label.lastIndex = at;
    const match = label.exec(body);
    if (!match) {
      if (body.slice(at).trim() === '') return;
      throw new MetricsTextError(lineNo, line, 'malformed label');
    }
    into[match[1] as string] = unescapeLabel(match[2] as string);
    at = label.lastIndex;
  }
}

function unescapeLabel(value: string): string {
  return value.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
}

function parseValue(text: string): number | undefined {
  if (text === '+Inf' || text === 'Inf') return Number.POSITIVE_INFINITY;
  if (text === '-Inf') return Number.NEGATIVE_INFINITY;
  if (text === 'NaN') return Number.NaN;
  if (text === '') return undefined;
  const n = Number(text);
  return Number.isNaN(n) ? undefined : n;
}
