import { UsageError } from '../../pipeline/errors.js';
import { eventsProjection } from './eventsProjection.js';
import type { Projection } from './projection.js';

/** kes's own projections; a deployment adds its own (`startProjector({ projections })`, `kes project --projections`). */
export const PROJECTIONS: readonly Projection[] = [eventsProjection];

/** A projection by name among `available` (kes's own, plus those of a `--projections` file). */
export function projectionNamed(name: string, available: readonly Projection[] = PROJECTIONS): Projection {
  const found = available.find((p) => p.name === name);
  if (!found) {
    throw new UsageError(`unknown projection '${name}'; valid: ${available.map((p) => p.name).join(', ')}`, {
      projection: name,
    });
  }
  return found;
}
