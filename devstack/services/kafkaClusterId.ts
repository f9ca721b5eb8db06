import { randomBytes } from 'node:crypto';

/**
 * A Kafka cluster id: a Uuid, 16 bytes in base64url (22 characters). Like Kafka's own Uuid.randomUuid(), it never
 * starts with '-': the storage tool's argument parser reads `-t -Xy…` as an option and refuses to format
 * ("argument --cluster-id/-t: expected one argument"), which a plain random id did in 1 cluster start of 64.
 */
export function newKafkaClusterId(random: (size: number) => Buffer = randomBytes): string {
  for (;;) {
    const id = random(16).toString('base64url');
    if (!id.startsWith('-') && /[^A]/.test(id)) return id;
  }
}
