/** A committed event read from its topic and decoded: what every projection's rows are made from. */
export interface DecodedEvent {
  topic: string;
  partition: number;
  offset: number;
  stream: string;
  category: string;
  version: number;
  eventId: string;
  type: string;
  /** When the guard appended it (ce_time header), ms since the epoch. */
  timeMs: number;
  /** The Avro data decoded through the registry, as JSON text. */
  dataJson: string;
  metadataJson: string;
  /** The W3C traceparent of the request that appended it (traceparent header), when it had one. */
  traceparent?: string;
}
