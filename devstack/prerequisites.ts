import { spawnSync } from 'node:child_process';
import { accessSync, constants, readdirSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { PrerequisiteMissingError } from '../pipeline/errors.js';

/** The executable `name` found on PATH, or undefined. */
export function which(name: string, path = process.env.PATH ?? ''): string | undefined {
  for (const dir of path.split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

export function requireTool(name: string, howToInstall: string): string {
  const found = which(name);
  if (!found) throw new PrerequisiteMissingError(name, howToInstall, 'was not found on PATH');
  return found;
}

const javaVersions = new Map<string, number | undefined>();

/**
 * Major version of a java binary (17, 21, 25…), or undefined when it does not run. Remembered per binary:
 * each JVM start costs a noticeable fraction of a second, and `up` asks while checking and again while starting.
 */
export function javaMajorVersion(javaBin: string): number | undefined {
  if (javaVersions.has(javaBin)) return javaVersions.get(javaBin);
  // `java -version` prints to stderr.
  const result = spawnSync(javaBin, ['-version'], { encoding: 'utf8', timeout: 20_000 });
  const version =
    result.error || result.status !== 0 ? undefined : parseJavaVersion(`${result.stderr}${result.stdout}`);
  javaVersions.set(javaBin, version);
  return version;
}

export function parseJavaVersion(text: string): number | undefined {
  const match = /version "(\d+)(?:\.(\d+))?/.exec(text);
  if (!match?.[1]) return undefined;
  const major = Number(match[1]);
  // Java 8 and older report "1.8.0_…".
  return major === 1 && match[2] ? Number(match[2]) : major;
}

/**
 * A java binary of at least `minMajor`. Looks at KES_JAVA_HOME, JAVA_HOME, PATH, then every JDK under
 * /usr/lib/jvm: Apicurio Registry 3 needs Java 21+, while Debian's default here is 17, and machines of this
 * kind carry a newer Temurin beside it.
 */
export function findJava(minMajor: number, env: NodeJS.ProcessEnv = process.env): string {
  const candidates: string[] = [];
  for (const home of [env.KES_JAVA_HOME, env.JAVA_HOME]) {
    if (home) candidates.push(join(home, 'bin', 'java'));
  }
  const onPath = which('java', env.PATH ?? '');
  if (onPath) candidates.push(onPath);
  try {
    for (const jdk of readdirSync('/usr/lib/jvm').sort().reverse()) {
      candidates.push(join('/usr/lib/jvm', jdk, 'bin', 'java'));
    }
  } catch {
    // no system JDKs
  }
  const seen: string[] = [];
  for (const candidate of candidates) {
    const version = stderrVersion(candidate);
    if (version === undefined) continue;
    seen.push(`${candidate} (${version})`);
    if (version >= minMajor) return candidate;
  }
  throw new PrerequisiteMissingError(
    `java ${minMajor}+`,
    `install a JDK ${minMajor} or newer (e.g. apt-get install openjdk-${minMajor}-jre-headless, or Temurin under /usr/lib/jvm) or set KES_JAVA_HOME`,
    seen.length === 0 ? 'was not found' : `was not found (found only ${seen.join(', ')})`,
  );
}

function stderrVersion(javaBin: string): number | undefined {
  try {
    accessSync(javaBin, constants.X_OK);
  } catch {
    return undefined;
  }
  return javaMajorVersion(javaBin);
}
