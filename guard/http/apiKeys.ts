import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { ConfigError, ForbiddenError, UnauthorizedError } from '../../pipeline/errors.js';

/**
 * API keys name the service that holds them and the categories it owns: a service has exclusive write authority
 * over its categories. Keys are kept only as SHA-256 digests, and looked up by digest, so comparing them leaks
 * nothing through timing.
 */
export interface Principal {
  service: string;
  categories: ReadonlySet<string>;
  /**
   * Categories whose commands this service may send although it does not own them: the owning module decides and
   * writes, under its own authority. A raw append to those categories stays forbidden.
   */
  commands: ReadonlySet<string>;
}

const keyList = z
  .array(
    z.object({
      key: z.string().min(8, 'a key has at least 8 characters'),
      service: z.string().min(1),
      categories: z
        .array(z.string().regex(/^([a-z0-9_]+|\*)$/, 'a category (lowercase letters, digits, _) or *'))
        .min(1),
      commands: z
        .array(z.string().regex(/^([a-z0-9_]+|\*)$/, 'a category (lowercase letters, digits, _) or *'))
        .optional(),
    }),
  )
  .min(1);

export class ApiKeys {
  private readonly byDigest: Map<string, Principal>;

  private constructor(byDigest: Map<string, Principal>) {
    this.byDigest = byDigest;
  }

  /** From KES_API_KEYS: a JSON array, or `@path` to a file holding one. */
  static parse(setting: string): ApiKeys {
    let text = setting;
    const source = setting.startsWith('@') ? setting.slice(1) : 'KES_API_KEYS';
    if (setting.startsWith('@')) {
      try {
        text = readFileSync(source, 'utf8');
      } catch (error) {
        throw new ConfigError('KES_API_KEYS', `cannot read ${source}: ${(error as Error).message}`);
      }
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (error) {
      throw new ConfigError('KES_API_KEYS', `${source} is not JSON: ${(error as Error).message}`);
    }
    const parsed = keyList.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new ConfigError(`KES_API_KEYS[${issue?.path.join('.')}]`, issue?.message ?? 'invalid');
    }
    const map = new Map<string, Principal>();
    parsed.data.forEach((entry, i) => {
      const d = digest(entry.key);
      if (map.has(d)) throw new ConfigError(`KES_API_KEYS[${i}].key`, 'the same key is listed twice');
      map.set(d, {
        service: entry.service,
        categories: new Set(entry.categories),
        commands: new Set(entry.commands ?? []),
      });
    });
    return new ApiKeys(map);
  }

  /** The principal of an `Authorization: Bearer <key>` (or `x-api-key`) header; 401 without a known key. */
  authenticate(authorization: string | undefined, apiKey: string | undefined): Principal {
    const key = apiKey?.trim() || /^Bearer\s+(.+)$/i.exec(authorization ?? '')?.[1]?.trim();
    const principal = key ? this.byDigest.get(digest(key)) : undefined;
    if (!principal) throw new UnauthorizedError();
    return principal;
  }
}

export function authorizeWrite(principal: Principal, category: string): void {
  if (!principal.categories.has(category) && !principal.categories.has('*')) {
    throw new ForbiddenError(principal.service, category);
  }
}

/** Commands may be sent to the categories a service owns, and to those its key lists under `commands`. */
export function authorizeCommand(principal: Principal, category: string): void {
  const may = (set: ReadonlySet<string>) => set.has(category) || set.has('*');
  if (!may(principal.categories) && !may(principal.commands)) {
    throw new ForbiddenError(principal.service, category, 'send commands to');
  }
}

function digest(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}
