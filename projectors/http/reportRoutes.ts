import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import type { ClickHouseEngine } from '../../pipeline/clickhouse/engine.js';
import { isCategory } from '../../pipeline/events/streamName.js';
import { schemasDocumentOnly } from '../../pipeline/http/httpApp.js';
import { coreReportCatalog, type ReportCatalog } from '../reports/reportCatalog.js';
import { ReportOptionError, UnknownReportError } from '../reports/reportErrors.js';
import { parseChoice, type RawOptions } from '../reports/reportOptions.js';
import { knownCategories, prepareReport, ReadModelsMissingError, runReport } from '../reports/runReport.js';
import { answerReadErrors } from './readErrors.js';
import { reportListSchema, reportSchema } from './routeSchemas.js';

export interface ReportRoutesOptions {
  /** The read-model engine (the projector's own, or any from openEngine). */
  engine: ClickHouseEngine;
  /** The database of the serving views (KES_CLICKHOUSE_DATABASE). */
  database: string;
  /** The reports served (default: the core reports; a deployment hands in its own domain's too). */
  reports?: ReportCatalog;
  /** How long the list of known categories is reused before it is read again (default 5000 ms). */
  categoriesTtlMs?: number;
  /** The clock relative times (`-15m`) are taken from (default Date.now). */
  now?: () => number;
}

/** Read models follow the log: what a projector has not projected yet is not in any answer. */
export const CONSISTENCY_HEADER = 'x-kes-consistency';

/**
 * The reports over HTTP, as JSON:
 *
 * - `GET /reports`: every report with its description, options (defaults, bounds, choices) and columns.
 * - `GET /reports/:name?from=&to=&category=&limit=&by=`: `{report, from, to, options, columns, rows}`, the same
 *   rows `kes report <name> --format json` prints. Bad input is a 400 `{error: 'invalid_option', message, option,
 *   choices}` and an unknown report a 404 `{error: 'unknown_report', …}`; nothing runs. A database without read
 *   models is a 503 `{error: 'read_models_missing'}`; ClickHouse unreachable or failing a 500 `{error: 'read_failed'}`.
 *
 * Register with `app.register(reportRoutes, { engine, database })`.
 */
export const reportRoutes: FastifyPluginAsync<ReportRoutesOptions> = async (app, options) => {
  schemasDocumentOnly(app);
  answerReadErrors(app);
  const now = options.now ?? Date.now;
  const catalog = options.reports ?? coreReportCatalog;
  const categories = cachedCategories(options.engine, options.database, options.categoriesTtlMs ?? 5000);

  app.get('/reports', { schema: reportListSchema }, async (_request, reply) => {
    reply.header(CONSISTENCY_HEADER, 'eventual');
    return {
      reports: catalog.reports.map((r) => ({
        name: r.name,
        description: r.description,
        options: r.options.map((o) => ({
          name: o.name,
          description: o.description,
          default: o.default ?? null,
          ...(o.choices ? { choices: o.choices } : {}),
          ...(o.max !== undefined ? { max: o.max } : {}),
        })),
        columns: r.columns,
      })),
    };
  });

  app.get<{ Params: { name: string }; Querystring: RawOptions }>(
    '/reports/:name',
    { schema: reportSchema },
    async (request, reply) => {
      reply.header(CONSISTENCY_HEADER, 'eventual');
      try {
        const { format, ...query } = request.query ?? {};
        if (format !== undefined) parseChoice('format', String(format), ['json']);
        const prepared = prepareReport(catalog, request.params.name, query, now());
        const result = await runReport(options.engine, options.database, prepared, { categories });
        const iso = (ms: number | undefined) => (ms === undefined ? null : new Date(ms).toISOString());
        const { from, to, ...rest } = result.options;
        return {
          report: result.definition.name,
          from: iso(from),
          to: iso(to),
          options: rest,
          columns: result.definition.columns,
          rows: result.rows,
        };
      } catch (error) {
        return refuse(reply, error);
      }
    },
  );
};

/** Sends the answer for a refusal (400, 404, 503); anything else is rethrown to Fastify's error handler (500). */
export function refuse(reply: FastifyReply, error: unknown): FastifyReply {
  if (error instanceof UnknownReportError) {
    return reply
      .code(404)
      .send({ error: 'unknown_report', message: error.messageFor(), option: 'report', choices: error.choices });
  }
  if (error instanceof ReportOptionError) {
    return reply.code(400).send({
      error: 'invalid_option',
      message: error.messageFor('http'),
      option: error.option,
      choices: error.choices,
    });
  }
  if (error instanceof ReadModelsMissingError) {
    return reply.code(503).send({ error: 'read_models_missing', message: error.message });
  }
  throw error;
}

/**
 * The known categories, read again after `ttlMs`, or at once when a well-formed category is asked for that the
 * cached list does not have (it may have just got its first event).
 */
function cachedCategories(
  engine: ClickHouseEngine,
  database: string,
  ttlMs: number,
): (wanted: string) => Promise<readonly string[]> {
  let cached: { at: number; categories: readonly string[] } | undefined;
  return async (wanted) => {
    const fresh = cached !== undefined && Date.now() - cached.at < ttlMs;
    if (cached && fresh && (cached.categories.includes(wanted) || !isCategory(wanted))) return cached.categories;
    const categories = await knownCategories(engine, database);
    cached = { at: Date.now(), categories };
    return categories;
  };
}
