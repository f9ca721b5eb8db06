import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { IncomingHttpHeaders } from 'node:http';
import { z } from 'zod';
import { ConfigError, UnauthorizedError } from '../../pipeline/errors.js';
import type { Principal } from '../append/authority.js';

/**
 * API keys name the service that holds them and the categories it owns (what each may do is decided in
 * guard/append/authority.ts). Keys are kept only as SHA-256 digests, and looked up by digest, so comparing them leaks
 * nothing through timing.
 */

const keyList = z
  .array(
    z
      .object({
        key: z.string().min(8, 'a key has at least 8 characters'),
        service: z.string().min(1),
        categories: z.array(z.string().regex(/^([a-z0-9_]+|\*)$/, 'a category (lowercase letters, digits, _) or *')),
        commands: z
          .array(z.string().regex(/^([a-z0-9_]+|\*)$/, 'a category (lowercase letters, digits, _) or *'))
          .optional(),
        // Categories whose streams the service may read (GET /streams/{stream}/events) without owning them.
        reads: z
          .array(z.string().regex(/^([a-z0-9_]+|\*)$/, 'a category (lowercase letters, digits, _) or *'))
          .optional(),
      })
      .superRefine((entry, context) => {
        // A read-only key owns nothing: it lists what it reads instead.
        if (entry.categories.length === 0 && (entry.reads ?? []).length === 0) {
          context.addIssue({
            code: 'custom',
            path: ['categories'],
            message: 'a key owns at least one category, or lists the categories it reads under reads',
          });
        }
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
        ...(entry.reads ? { reads: new Set(entry.reads) } : {}),
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

  /** The principal of a request, from its headers as Node parsed them. */
  authenticateHeaders(headers: IncomingHttpHeaders): Principal {
    return this.authenticate(headers.authorization, header(headers['x-api-key']));
  }
}

/** A header sent more than once counts by its first value. */
function header(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function digest(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}
