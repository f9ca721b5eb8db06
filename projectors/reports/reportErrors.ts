import { UsageError } from '../../pipeline/errors.js';

/**
 * Bad input to a report: one option, the value given, what is wrong with it and the valid choices. Both are
 * UsageErrors (exit 2 on the command line); over HTTP an unknown report is a 404 and anything else a 400.
 * `message` is the command line's wording (`--from: …`); `messageFor('http')` names query parameters instead.
 */
export class ReportOptionError extends UsageError {
  readonly option: string;
  readonly value: string | undefined;
  readonly problem: string;
  readonly choices: readonly string[];
  /** The choices are names of options (written `--from` on the command line), not values. */
  readonly choicesAreOptions: boolean;

  constructor(
    option: string,
    value: string | undefined,
    problem: string,
    choices: readonly string[],
    choicesAreOptions = false,
  ) {
    super(render('cli', option, problem, choices, choicesAreOptions), { option, value, choices });
    this.option = option;
    this.value = value;
    this.problem = problem;
    this.choices = choices;
    this.choicesAreOptions = choicesAreOptions;
  }

  messageFor(surface: 'cli' | 'http'): string {
    return render(surface, this.option, this.problem, this.choices, this.choicesAreOptions);
  }
}

/** The report name itself is unknown (404 over HTTP). */
export class UnknownReportError extends ReportOptionError {
  constructor(name: string, known: readonly string[]) {
    super('report', name, `unknown report ${shown(name)}`, known);
  }

  override messageFor(): string {
    return this.message;
  }
}

/** Most choices a message lists before it says how many more there are (categories can be many). */
const MAX_LISTED = 40;

function render(
  surface: 'cli' | 'http',
  option: string,
  problem: string,
  choices: readonly string[],
  choicesAreOptions: boolean,
): string {
  const flag = (name: string) => (surface === 'cli' ? `--${name}` : name);
  const name = option === 'report' ? 'report' : flag(option);
  const listed = choices
    .slice(0, MAX_LISTED)
    .map((c) => (choicesAreOptions ? flag(c) : c))
    .join(', ');
  const more = choices.length > MAX_LISTED ? ` and ${choices.length - MAX_LISTED} more` : '';
  return `${name}: ${problem}; valid: ${choices.length === 0 ? '(none)' : `${listed}${more}`}`;
}

/**
 * A value as the user gave it, quoted, on one line and short: control characters escaped, at most 80 characters.
 * Messages must stay one line whatever was typed.
 */
export function shown(value: string): string {
  const short = value.length > 80 ? `${value.slice(0, 80)}…` : value;
  const escaped = Array.from(short, (c) => {
    const code = c.codePointAt(0) ?? 0;
    const control = code < 0x20 || (code >= 0x7f && code <= 0x9f) || code === 0x2028 || code === 0x2029;
    return control ? `\\u${code.toString(16).padStart(4, '0')}` : c;
  }).join('');
  return `'${escaped}'`;
}
