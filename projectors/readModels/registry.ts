import { UsageError } from '../../pipeline/errors.js';
import { eventsProjection } from './eventsProjection.js';
import type { Projection } from './projection.js';

/** Every projection kes runs. A new read model is a new entry here (and its own tables and views). */
export const PROJECTIONS: readonly Projection[] = [eventsProjection];

export function projectionNamed(name: string): Projection {
  const found = PROJECTIONS.find((p) => p.name === name);
  if (!found) {
    throw new UsageError(`unknown projection '${name}'; valid: ${PROJECTIONS.map((p) => p.name).join(', ')}`, {
      projection: name,
    });
  }
  return found;
}
