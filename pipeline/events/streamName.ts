/**
 * Stream names are `category-id`. The category picks the topic (and the service that may write it); the whole name
 * is the Kafka key, so one stream lives in one partition and keeps its order.
 */

// Categories name topics (`<prefix><category>`, at most 249 characters in Kafka): kept short.
const CATEGORY = /^[a-z0-9_]{1,100}$/;
const ID = /^[A-Za-z0-9_.:@-]{1,200}$/;

export interface StreamName {
  readonly stream: string;
  readonly category: string;
  readonly id: string;
}

/** Parses `category-id`; answers why not when it is not one (the caller turns that into a 400). */
export function parseStreamName(stream: string): StreamName | { error: string } {
  const dash = stream.indexOf('-');
  if (dash <= 0) return { error: 'a stream is named category-id (category: lowercase letters, digits, _)' };
  const category = stream.slice(0, dash);
  const id = stream.slice(dash + 1);
  if (!CATEGORY.test(category))
    return { error: `category '${category.slice(0, 120)}' must be 1 to 100 lowercase letters, digits or _` };
  if (!ID.test(id)) return { error: 'id must be 1 to 200 of letters, digits and _ . : @ -' };
  return { stream, category, id };
}

export function isCategory(category: string): boolean {
  return CATEGORY.test(category);
}

export function topicOf(prefix: string, category: string): string {
  return `${prefix}${category}`;
}

/** The category of a topic under `prefix`, or undefined for topics that are not kes category topics. */
export function categoryOfTopic(prefix: string, topic: string): string | undefined {
  if (!topic.startsWith(prefix)) return undefined;
  const category = topic.slice(prefix.length);
  return isCategory(category) ? category : undefined;
}
