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
