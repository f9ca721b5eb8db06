import Ajv2020 from 'ajv/dist/2020.js';
import { expect } from 'vitest';

/**
 * Checks real answers against a kes process's own OpenAPI document (GET /openapi.json): every answer's body must
 * validate against the schema documented for its route and status, and at the end every documented status of
 * every route must have been seen (`uncovered()`), and every route must document its answers (`undocumented()`).
 */
type Operation = { responses?: Record<string, { content?: Record<string, { schema?: unknown }> }> };
type Document = { openapi: string; paths: Record<string, Record<string, Operation>> };

export interface Answer {
  status: number;
  body: unknown;
  contentType: string;
}

export class OpenApiContract {
  private readonly ajv = new Ajv2020.default({ strict: false, allErrors: true });
  private readonly seen = new Set<string>();

  private constructor(readonly document: Document) {}

  static async load(baseUrl: string): Promise<OpenApiContract> {
    const response = await fetch(`${baseUrl}/openapi.json`);
    expect(response.status).toBe(200);
    const document = (await response.json()) as Document;
    expect(document.openapi).toBe('3.1.0');
    return new OpenApiContract(document);
  }

  /** `METHOD /path/{param} status` for every documented answer. */
  documented(): string[] {
    return Object.entries(this.document.paths).flatMap(([path, operations]) =>
      Object.entries(operations).flatMap(([method, op]) =>
        Object.keys(op.responses ?? {}).map((status) => `${method.toUpperCase()} ${path} ${status}`),
      ),
    );
  }

  /** Routes whose answers are not documented (fastify-swagger's placeholder "Default Response" only). */
  undocumented(): string[] {
    return Object.entries(this.document.paths).flatMap(([path, operations]) =>
      Object.entries(operations)
        .filter(([, op]) => Object.values(op.responses ?? {}).every((r) => r.content === undefined))
        .map(([method]) => `${method.toUpperCase()} ${path}`),
    );
  }

  /** Whether a route documents its answers (a route added without schemas does not, until it has them). */
  documents(method: string, path: string): boolean {
    const operation = this.document.paths[path]?.[method.toLowerCase()];
    return Object.values(operation?.responses ?? {}).some((r) => r.content !== undefined);
  }

  /** Sends a request and checks its answer against the document; resolves to the answer. */
  async call(
    baseUrl: string,
    method: string,
    path: string,
    concrete: string,
    init: { headers?: Record<string, string>; body?: string } = {},
  ): Promise<Answer & { headers: Headers }> {
    const response = await fetch(`${baseUrl}${concrete}`, { method, ...init });
    const contentType = response.headers.get('content-type') ?? '';
    const text = await response.text();
    const body = contentType.includes('json') ? JSON.parse(text) : text;
    this.check(method, path, { status: response.status, body, contentType });
    return { status: response.status, body, contentType, headers: response.headers };
  }

  /** Checks one answer against the document's schema for its route and status, and marks that status seen. */
  check(method: string, path: string, answer: Answer): void {
    const where = `${method.toUpperCase()} ${path} ${answer.status}`;
    const operation = this.document.paths[path]?.[method.toLowerCase()];
    expect(operation, `${method} ${path} is not in the document`).toBeDefined();
    const documented = operation?.responses?.[String(answer.status)];
    expect(documented, `${where} is not documented (body ${JSON.stringify(answer.body)})`).toBeDefined();
    const mediaType = answer.contentType.split(';')[0]?.trim() ?? '';
    const content = documented?.content?.[mediaType];
    expect(content, `${where}: ${mediaType} is not documented`).toBeDefined();
    const validate = this.ajv.compile(content?.schema as object);
    expect(
      validate(answer.body),
      `${where}: ${this.ajv.errorsText(validate.errors)}; body ${JSON.stringify(answer.body)}`,
    ).toBe(true);
    this.seen.add(where);
  }

  /** Documented answers no call produced. */
  uncovered(): string[] {
    return this.documented().filter((d) => !this.seen.has(d));
  }
}
