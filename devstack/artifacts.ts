import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FetchError } from '../pipeline/errors.js';
import { requireTool } from './prerequisites.js';

/**
 * Artifacts come from Maven Central through the machine's Maven (the only route to Kafka and Apicurio here),
 * are fetched once into the shared cache, and are published by renaming a finished temp directory, so that an
 * interrupted download never leaves a half-filled directory that looks complete.
 */

export const KAFKA_VERSION = '4.1.1';
export const LOG4J_VERSION = '2.25.3';
export const APICURIO_VERSION = '3.3.3';

const MVN_HINT = 'install Maven (apt-get install -y maven)';

export function kafkaJarsDir(cacheDir: string): string {
  return join(cacheDir, `kafka-${KAFKA_VERSION}`, 'libs');
}

export function apicurioDir(cacheDir: string): string {
  return join(cacheDir, `apicurio-registry-${APICURIO_VERSION}`);
}

export function kafkaJarsCached(cacheDir: string): boolean {
  const libs = kafkaJarsDir(cacheDir);
  return existsSync(libs) && readdirSync(libs).some((f) => f.startsWith('kafka_2.13-'));
}

export function apicurioCached(cacheDir: string): boolean {
  return existsSync(join(apicurioDir(cacheDir), 'quarkus-run.jar'));
}

/** The tools a first download needs (checked before anything starts, and again where used); returns mvn. */
export function requireDownloadTools(): string {
  const mvn = requireTool('mvn', MVN_HINT);
  requireTool('tar', 'install tar (apt-get install -y tar)');
  return mvn;
}

export async function ensureKafkaJars(cacheDir: string, progress: (line: string) => void): Promise<string> {
  const libs = kafkaJarsDir(cacheDir);
  if (kafkaJarsCached(cacheDir)) return libs;
  const mvn = requireDownloadTools();
  progress(`fetching Apache Kafka ${KAFKA_VERSION} jars from Maven Central into ${libs}`);
  const work = join(cacheDir, `.kafka-${KAFKA_VERSION}-${process.pid}`);
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  // Kafka 4.1 still logs through SLF4J 1.7, so the binding is log4j-slf4j-impl (not the slf4j2 one).
  writeFileSync(
    join(work, 'pom.xml'),
    `<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>dev.kes.stack</groupId><artifactId>kafka-runtime</artifactId><version>1</version><packaging>pom</packaging>
  <dependencies>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka_2.13</artifactId><version>${KAFKA_VERSION}</version></dependency>
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-slf4j-impl</artifactId><version>${LOG4J_VERSION}</version></dependency>
  </dependencies>
</project>
`,
  );
  await run(
    mvn,
    ['-q', '-B', 'dependency:copy-dependencies', '-DincludeScope=runtime', `-DoutputDirectory=${join(work, 'libs')}`],
    work,
    `Kafka ${KAFKA_VERSION}`,
  );
  mkdirSync(join(cacheDir, `kafka-${KAFKA_VERSION}`), { recursive: true });
  publish(join(work, 'libs'), libs);
  rmSync(work, { recursive: true, force: true });
  return libs;
}

export async function ensureApicurio(cacheDir: string, progress: (line: string) => void): Promise<string> {
  const home = apicurioDir(cacheDir);
  if (apicurioCached(cacheDir)) return home;
  const mvn = requireDownloadTools();
  progress(`fetching Apicurio Registry ${APICURIO_VERSION} from Maven Central (about 160 MB) into ${home}`);
  const work = join(cacheDir, `.apicurio-${APICURIO_VERSION}-${process.pid}`);
  rmSync(work, { recursive: true, force: true });
  mkdirSync(join(work, 'app'), { recursive: true });
  await run(
    mvn,
    [
      '-q',
      '-B',
      'org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy',
      `-Dartifact=io.apicurio:apicurio-registry-app:${APICURIO_VERSION}:tar.gz:all`,
      `-DoutputDirectory=${work}`,
    ],
    work,
    `Apicurio Registry ${APICURIO_VERSION}`,
  );
  // The archive has no top-level folder.
  await run(
    'tar',
    ['xzf', join(work, `apicurio-registry-app-${APICURIO_VERSION}-all.tar.gz`), '-C', join(work, 'app')],
    work,
    'the Apicurio archive',
  );
  publish(join(work, 'app'), home);
  rmSync(work, { recursive: true, force: true });
  return home;
}

function publish(from: string, to: string): void {
  try {
    renameSync(from, to);
  } catch (error) {
    // Another `kes stack up` published it first: theirs is as good as ours.
    if (!existsSync(to)) throw error;
  }
}

function run(command: string, args: string[], cwd: string, what: string): Promise<void> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(command, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const keep = (chunk: Buffer) => {
      output = (output + chunk.toString()).slice(-4000);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    child.on('error', (error) => reject(new FetchError(what, error.message, error)));
    child.on('exit', (code) => {
      if (code === 0) resolvePromise();
      else reject(new FetchError(what, `${command} exited with ${code}:\n${output.trim()}`));
    });
  });
}
