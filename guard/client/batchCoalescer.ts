import type { ItemAnswer } from './appendAnswers.js';
import { type CoalescePolicy, fullAfterAdding, lingerWhile, type Pending, sendBeforeAdding } from './coalescePlan.js';

/**
 * Gathers appends to one guard into batch requests. While no request to that guard is in flight, what is pending
 * goes at the end of the current tick (a lone caller waits for nothing); while one is, the first pending append
 * starts a linger timer and the request is sent when the timer fires, when it is full (maxAppends, maxBytes), or at once when asked (`sendSoon`: an explicit
 * batch, sent at the end of the current tick so that all its items go together). Each append is given its own
 * answer; `send` never rejects (no answer is an answer: 'lost').
 */
export type SendBatch = (itemsJson: readonly string[]) => Promise<ItemAnswer[]>;

interface Waiting {
  json: string;
  resolve: (answer: ItemAnswer) => void;
}

export class BatchCoalescer {
  private waiting: Waiting[] = [];
  private pending: Pending = { count: 0, bytes: 0 };
  private timer: NodeJS.Timeout | undefined;
  private soon = false;
  /** Batch requests sent and not yet answered. */
  private inFlight = 0;

  constructor(
    private readonly policy: CoalescePolicy,
    private readonly send: SendBatch,
  ) {}

  /** One append, as its JSON in the batch body; resolves with its own answer. */
  submit(json: string, options: { sendSoon?: boolean } = {}): Promise<ItemAnswer> {
    const bytes = Buffer.byteLength(json) + 1;
    if (sendBeforeAdding(this.pending, bytes, this.policy)) this.sendNow();
    const answer = new Promise<ItemAnswer>((resolve) => this.waiting.push({ json, resolve }));
    this.pending = { count: this.pending.count + 1, bytes: this.pending.bytes + bytes };
    if (fullAfterAdding(this.pending, this.policy)) this.sendNow();
    else if (options.sendSoon || !lingerWhile(this.inFlight)) this.sendAtEndOfTick();
    else if (this.timer === undefined && !this.soon) {
      this.timer = setTimeout(() => this.sendNow(), this.policy.lingerMs);
    }
    return answer;
  }

  private sendAtEndOfTick(): void {
    if (this.soon) return;
    this.soon = true;
    queueMicrotask(() => this.sendNow());
  }

  private sendNow(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.soon = false;
    const batch = this.waiting;
    if (batch.length === 0) return;
    this.waiting = [];
    this.pending = { count: 0, bytes: 0 };
    this.inFlight += 1;
    this.send(batch.map((w) => w.json))
      .finally(() => {
        this.inFlight -= 1;
      })
      .then(
        (answers) => {
          batch.forEach((w, i) => {
            w.resolve(answers[i] ?? missing);
          });
        },
        (error: unknown) => {
          const lost: ItemAnswer = {
            kind: 'lost',
            reason: 'client_error',
            message: error instanceof Error ? error.message : String(error),
          };
          for (const w of batch) w.resolve(lost);
        },
      );
  }
}

const missing: ItemAnswer = { kind: 'lost', reason: 'malformed_batch_answer', message: 'no answer for this append' };
