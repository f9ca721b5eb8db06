import avro, { type Type } from 'avsc';
import { InvalidRequestError } from '../errors.js';
import { getSchemaById } from '../registry/subjects.js';
import { loadLocalSchemas } from './localSchemas.js';
import { pushSchemas } from './schemaCheck.js';
import { type DataProblem, validateData } from './validateData.js';
import { encodeWire, HEADER_BYTES, readSchemaId } from './wireFormat.js';

/**
 * What the guard (and every reader of the log) knows about event types at run time: which types exist, whether
 * data fits a type, and the Confluent wire format of event values. Validation and encoding are synchronous and use
 * no network; decoding fetches a writer schema it has not seen once per schema id.
 */
export interface EventCatalog {
  types(): string[];
  has(type: string): boolean;
  /** null when valid; otherwise the path inside data (e.g. 'amount' or 'items[2].sku', '' for the root) and a message */
  validate(type: string, data: unknown): DataProblem | null;
  /**
   * Confluent wire format: 0x00, 4-byte big-endian schema id, Avro body; synchronous and fast (no network).
   * It does not refuse undeclared fields (they are dropped): call `validate` first.
   */
  encode(type: string, data: unknown): Buffer;
  /** decodes any registered schema id (older versions too), fetching unknown ids from the registry once and caching */
  decode(value: Buffer): Promise<{ schemaId: number; data: unknown }>;
  schemaId(type: string): number;
}

export interface OpenEventCatalogOptions {
  /** Base of the Confluent-compatible API, e.g. http://127.0.0.1:18081/apis/ccompat/v7 */
  registryUrl: string;
  /** The schema directory (KES_SCHEMAS_DIR). */
  dir: string;
}

/**
 * Loads the local schemas, checks them against the registry and registers them (idempotent). Refuses to open, with a
 * SchemaIncompatibleError naming the file and the field, when the registry would refuse any of them; then nothing is
 * registered. A bad schema file is a SchemaFileError.
 */
export async function openEventCatalog(options: OpenEventCatalogOptions): Promise<EventCatalog> {
  const schemas = loadLocalSchemas(options.dir);
  const pushed = await pushSchemas(options.registryUrl, schemas);
  return buildEventCatalog(
    schemas.map((schema, i) => ({ type: schema.type, avroType: schema.avroType, schemaId: pushed[i]?.id as number })),
    (id) => getSchemaById(options.registryUrl, id),
  );
}

export interface CatalogEntry {
  type: string;
  avroType: Type;
  schemaId: number;
}

/**
 * A catalog over already registered schemas. `fetchSchema` answers the schema text of an id the catalog has not
 * seen (older versions, other writers); each id is fetched once.
 */
export function buildEventCatalog(
  entries: readonly CatalogEntry[],
  fetchSchema: (id: number) => Promise<string>,
): EventCatalog {
  const byType = new Map<string, CatalogEntry>(entries.map((e) => [e.type, e]));
  const byId = new Map<number, Promise<Type>>(entries.map((e) => [e.schemaId, Promise.resolve(e.avroType)]));
  const typeNames = [...byType.keys()].sort();

  const entry = (type: string): CatalogEntry => {
    const found = byType.get(type);
    if (!found) throw new InvalidRequestError('unknown_event_type', 'type', `unknown event type '${type}'`);
    return found;
  };

  const writerType = (id: number): Promise<Type> => {
    let type = byId.get(id);
    if (!type) {
      type = fetchSchema(id).then((text) => avro.Type.forSchema(JSON.parse(text)));
      byId.set(id, type);
      // A failed fetch is not cached: the next decode of this id asks again.
      type.catch(() => byId.delete(id));
    }
    return type;
  };

  return {
    types: () => [...typeNames],
    has: (type) => byType.has(type),
    validate(type, data) {
      const found = byType.get(type);
      if (!found) return { path: '', message: `unknown event type '${type}'` };
      return validateData(found.avroType, data);
    },
    encode(type, data) {
      const { avroType, schemaId } = entry(type);
      try {
        return encodeWire(schemaId, avroType, data);
      } catch (error) {
        const problem = validateData(avroType, data);
        throw new InvalidRequestError(
          'invalid_event_data',
          problem?.path ?? '',
          problem?.message ?? (error as Error).message,
        );
      }
    },
    async decode(value) {
      const schemaId = readSchemaId(value);
      if (typeof schemaId !== 'number') {
        throw new InvalidRequestError('not_wire_format', '', `not a Confluent wire-format value: ${schemaId.error}`);
      }
      const type = await writerType(schemaId);
      try {
        return { schemaId, data: type.fromBuffer(value.subarray(HEADER_BYTES)) };
      } catch (error) {
        throw new InvalidRequestError(
          'not_wire_format',
          '',
          `value does not decode with schema id ${schemaId}: ${(error as Error).message}`,
        );
      }
    },
    schemaId: (type) => entry(type).schemaId,
  };
}
