import type { KesConfig } from '../pipeline/config/config.js';
import { PortInUseError } from '../pipeline/errors.js';
import { findFreePort, isPortFree, portHolder } from './ports.js';
import type { KafkaNodePorts, PortKey, StackPorts } from './services/service.js';

const settingOf: Record<PortKey, keyof KesConfig & `KES_${string}_PORT`> = {
  kafka: 'KES_KAFKA_PORT',
  kafkaController: 'KES_KAFKA_CONTROLLER_PORT',
  registry: 'KES_REGISTRY_PORT',
  registryManagement: 'KES_REGISTRY_MANAGEMENT_PORT',
  redis: 'KES_REDIS_PORT',
  clickhouseHttp: 'KES_CLICKHOUSE_HTTP_PORT',
  clickhouseTcp: 'KES_CLICKHOUSE_TCP_PORT',
  clickhouseEmbedded: 'KES_CLICKHOUSE_EMBEDDED_PORT',
  postgres: 'KES_POSTGRES_PORT',
};

export interface PortDecision {
  key: PortKey;
  port: number;
  /** Set when the wanted port was taken and another was picked. */
  movedFrom?: { port: number; holder: string | undefined };
}

/**
 * Decide each service's ports. A port remembered from an earlier `up` is kept while our own service holds it;
 * a port the user set explicitly must be free or held by us (else PortInUseError naming the holder); a default
 * port that something else holds moves to the next free one, and the move is reported.
 */
export async function planPorts(
  config: KesConfig,
  remembered: StackPorts | undefined,
  heldByUs: ReadonlySet<PortKey>,
): Promise<PortDecision[]> {
  const decisions: PortDecision[] = [];
  const taken = new Set<number>();
  for (const key of Object.keys(settingOf) as PortKey[]) {
    const setting = settingOf[key];
    const explicit = config.explicit.has(setting);
    const wanted = explicit ? config[setting] : (remembered?.[key] ?? config[setting]);
    if (wanted === 0) {
      // Any free port, chosen by the service when it binds (only the embedded facade allows it).
      decisions.push({ key, port: 0 });
      continue;
    }
    if (heldByUs.has(key) && (!explicit || remembered?.[key] === wanted)) {
      decisions.push({ key, port: wanted });
      taken.add(wanted);
      continue;
    }
    if (!taken.has(wanted) && (await isPortFree(wanted))) {
      decisions.push({ key, port: wanted });
      taken.add(wanted);
      continue;
    }
    const holder = taken.has(wanted) ? 'another kes service' : portHolder(wanted);
    if (explicit) throw new PortInUseError(`${key} (${setting})`, wanted, holder);
    const port = await findFreePort(wanted + 1, taken);
    decisions.push({ key, port, movedFrom: { port: wanted, holder } });
    taken.add(port);
  }
  return decisions;
}

export function portsOf(decisions: readonly PortDecision[]): StackPorts {
  return Object.fromEntries(decisions.map((d) => [d.key, d.port])) as unknown as StackPorts;
}

/**
 * Ports of Kafka nodes 2..N. They have no settings of their own: a new node wants node 1's ports plus 2 per node
 * (19094/19095, 19096/19097 by default) and moves to a free port when that is taken. Once planned they stay, running
 * or not: every node's controller quorum lists the others' controller ports, so a node that moved would be lost.
 */
export async function planKafkaExtra(
  nodes: number,
  ports: StackPorts,
  remembered: readonly KafkaNodePorts[] | undefined,
): Promise<KafkaNodePorts[]> {
  const taken = new Set<number>(
    Object.entries(ports).flatMap(([key, value]) => (key !== 'kafkaExtra' && typeof value === 'number' ? [value] : [])),
  );
  const planned: KafkaNodePorts[] = [];
  const pick = async (wanted: number, held: boolean): Promise<number> => {
    const port =
      held || (!taken.has(wanted) && (await isPortFree(wanted))) ? wanted : await findFreePort(wanted + 1, taken);
    taken.add(port);
    return port;
  };
  for (let node = 2; node <= nodes; node++) {
    const before = remembered?.[node - 2];
    const held = before !== undefined;
    const offset = 2 * (node - 1);
    planned.push({
      broker: await pick(before?.broker ?? ports.kafka + offset, held),
      controller: await pick(before?.controller ?? ports.kafkaController + offset, held),
    });
  }
  return planned;
}
