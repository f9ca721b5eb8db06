import { ForbiddenError } from '../../pipeline/errors.js';

/**
 * Who is asking, and what they may write: a service has exclusive write authority over its categories, so the rules
 * of the module that owns a category are the only rules its streams are written under.
 */
export interface Principal {
  service: string;
  categories: ReadonlySet<string>;
  /**
   * Categories whose commands this service may send although it does not own them: the owning module decides and
   * writes, under its own authority. A raw append to those categories stays forbidden.
   */
  commands: ReadonlySet<string>;
  /** Categories whose streams this service may read although it does not own them (a read model, a report). */
  reads?: ReadonlySet<string>;
}

/** The authority a command module writes under: its own service, its own category, nothing else. */
export function moduleAuthority(service: string, category: string): Principal {
  return { service, categories: new Set([category]), commands: new Set() };
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

/**
 * Reading a stream's events: a service reads what it owns, what it may send commands to (it sees that state through
 * GET /commands already), and the categories its key lists under `reads`.
 */
export function authorizeRead(principal: Principal, category: string): void {
  const may = (set: ReadonlySet<string> | undefined) => set !== undefined && (set.has(category) || set.has('*'));
  if (!may(principal.categories) && !may(principal.commands) && !may(principal.reads)) {
    throw new ForbiddenError(principal.service, category, 'read');
  }
}
