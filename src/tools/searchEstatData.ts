import { Clock, Effect, Either, Schema } from "effect"
import { AppConfig } from "../config.js"
import type { SearchTablesPage, TableInfo, TableMeta } from "../domain/estat.js"
import { suggestKeywords } from "../domain/keywords.js"
import { splitTerms } from "../domain/text.js"
import { rankTables } from "../domain/ranking.js"
import * as Tool from "../mcp/tool.js"
import { ToolContext, withDefault } from "../mcp/tool.js"
import { storedCandidates, storedMetadataOf, storedRunsOf } from "../pipeline/storedTables.js"
import { EStat } from "../services/estat/EStat.js"

const period = (what: string) =>
  Schema.String.pipe(Schema.pattern(/^\d{4}(\d{2})?(-\d{4}(\d{2})?)?$/, {
    message: () => `${what} must be yyyy, yyyymm or a range yyyy[mm]-yyyy[mm]`
  }))

const Input = Schema.Struct({
  query: Schema.String.pipe(Schema.minLength(1), Schema.maxLength(500)).annotations({
    description: "Search words; e-Stat syntax allowed: `東京 AND 人口`, `賃金 OR 給与`, `人口 NOT 推計`.",
    examples: ["人口 東京都"]
  }),
  max_results: withDefault(Schema.Int.pipe(Schema.between(1, 100)), 5, "How many ranked tables to return."),
  auto_suggest: withDefault(Schema.Boolean, true, "Also suggest official terms for everyday words."),
  scoring_method: withDefault(
    Schema.Literal("enhanced", "basic"),
    "enhanced",
    "basic: title, statistics name, categories, freshness, completeness. enhanced: also the top candidates' dimension labels (from their metadata)."
  ),
  stats_field: Schema.optional(Schema.String.pipe(Schema.pattern(/^\d{2}(\d{2})?$/, {
    message: () => "stats_field must be 2 digits (a major field, e.g. \"02\" 人口・世帯) or 4 digits (a minor field)"
  })).annotations({ description: "Statistical field: 2 digits (major, 01–17, e.g. 02 人口・世帯) or 4 digits (minor)." })),
  stats_code: Schema.optional(Schema.String.pipe(Schema.pattern(/^\d{5}(\d{3})?$/, {
    message: () => "stats_code must be 5 digits (an agency, e.g. \"00200\") or 8 digits (a statistics, e.g. \"00200521\")"
  })).annotations({ description: "Producing agency (5 digits, e.g. 00200 総務省) or government statistics code (8 digits, e.g. 00200521 国勢調査)." })),
  survey_years: Schema.optional(period("survey_years").annotations({ description: "Survey period: yyyy, yyyymm or yyyymm-yyyymm." })),
  open_years: Schema.optional(period("open_years").annotations({ description: "Publication period: yyyy, yyyymm or yyyymm-yyyymm." })),
  stored_only: withDefault(Schema.Boolean, false, "Search only tables with a stored run, asking e-Stat nothing."),
  updated_since: Schema.optional(Schema.String.pipe(Schema.pattern(/^(\d{4}(\d{2}(\d{2})?)?|\d{4}-\d{2}-\d{2})$/, {
    message: () => "updated_since must be yyyy, yyyymm, yyyymmdd or an ISO date yyyy-mm-dd"
  })).annotations({ description: "Only tables updated on or after this date (yyyy, yyyymm, yyyymmdd or yyyy-mm-dd)." }))
})

const DimensionSummary = Schema.Struct({
  id: Schema.String,
  name: Schema.String,
  item_count: Schema.Int,
  sample_labels: Schema.Array(Schema.String)
})

const Result = Schema.Struct({
  dataset_id: Schema.String,
  title: Schema.String,
  statistics_name: Schema.String,
  gov_org: Schema.String,
  survey_date: Schema.String,
  open_date: Schema.String,
  updated_date: Schema.String,
  total_records: Schema.NullOr(Schema.Int),
  score: Schema.Number,
  rank: Schema.Int,
  dimensions: Schema.optional(Schema.Array(DimensionSummary)),
  stored: Schema.optional(Schema.Struct({ run_id: Schema.String, fetched_at: Schema.String, rows: Schema.Int, current: Schema.NullOr(Schema.Boolean) }).annotations({
    description: "Its stored complete run; current: unchanged on e-Stat since, so a fetch reuses it."
  })),
  requires_filtering: Schema.optional(Schema.Boolean.annotations({
    description: "More rows than one e-Stat page: the fetch tools still get all (in pages); or narrow with fetch_dataset_filtered."
  }))
})

const Suggestion = Schema.Struct({
  term: Schema.String,
  suggested: Schema.String,
  reason: Schema.String,
  alternatives: Schema.Array(Schema.String)
})

const Output = Schema.Struct({
  query: Schema.String,
  scoring_method: Schema.Literal("enhanced", "basic"),
  total_found: Schema.Int,
  results: Schema.Array(Result),
  suggestions: Schema.Array(Suggestion),
  warnings: Schema.Array(Schema.String)
})
type Output = typeof Output.Type

/** e-Stat's page size for the candidate pool; ranking reads a few pages at most. */
const PAGE = 100

/** How many candidates ranking looks at for `maxResults` results. */
const poolSize = (maxResults: number) => Math.min(Math.max(maxResults * 3, 30), 300)

const toEStatDate = (date: string) => date.replaceAll("-", "")

/** Candidates for ranking: e-Stat's hits, page after page, until the pool is full or the hits end. */
const collectCandidates = (input: {
  readonly query: string
  readonly max_results: number
  readonly stats_field?: string | undefined
  readonly stats_code?: string | undefined
  readonly survey_years?: string | undefined
  readonly open_years?: string | undefined
  readonly updated_since?: string | undefined
}) =>
  Effect.gen(function* () {
    const estat = yield* EStat
    const wanted = poolSize(input.max_results)
    const tables: Array<TableInfo> = []
    let total = 0
    let next: number | null = 1
    while (next !== null && tables.length < wanted) {
      const page: SearchTablesPage = yield* estat.searchTables({
        searchWord: input.query,
        statsField: input.stats_field,
        statsCode: input.stats_code,
        surveyYears: input.survey_years,
        openYears: input.open_years,
        updatedDate: input.updated_since === undefined ? undefined : `${toEStatDate(input.updated_since)}-`,
        startPosition: next,
        limit: Math.min(PAGE, wanted - tables.length)
      })
      total = page.total
      tables.push(...page.tables)
      next = page.nextKey
    }
    return { tables, total }
  })

/**
 * Tables whose metadata "enhanced" scoring reads: a few more than asked, to re-rank among. All are
 * asked for at once, and up to 8 (ESTAT_MAX_IN_FLIGHT's default) take one round trip: the default
 * 5 results read 8.
 */
const enhancedPoolSize = (maxResults: number) => Math.min(Math.max(maxResults + 3, 8), 20)

const summarizeDimensions = (meta: TableMeta) =>
  meta.dimensions.map((d) => ({
    id: d.id,
    name: d.name,
    item_count: d.items.length,
    sample_labels: d.items.slice(0, 5).map((i) => i.name)
  }))

const fetchMetas = (tables: ReadonlyArray<TableInfo>) =>
  Effect.gen(function* () {
    const estat = yield* EStat
    const context = yield* ToolContext
    let done = 0
    const outcomes = yield* Effect.forEach(tables, (table) =>
      // The list's update date: a cached copy older than it is asked again.
      estat.getMetaInfo(table.statsDataId, { listedUpdate: table.updatedDate }).pipe(
        Effect.either,
        Effect.tap(() => {
          done += 1
          return context.progress({ progress: done + 1, total: tables.length + 1, message: `metadata ${done}/${tables.length}` })
        }),
        Effect.map((outcome) => [table.statsDataId, outcome] as const)
      ), { concurrency: "unbounded" })
    const metas = new Map<string, TableMeta>()
    const warnings: Array<string> = []
    for (const [id, outcome] of outcomes) {
      if (Either.isRight(outcome)) metas.set(id, outcome.right)
      else warnings.push(`Metadata of ${id} could not be read (${outcome.left.message}); it was ranked without its dimension labels.`)
    }
    return { metas, warnings }
  })

export const searchEstatData = Tool.make({
  name: "search_estat_data",
  title: "Search e-Stat tables",
  description:
    "Searches and ranks e-Stat (Japan's official statistics) tables. Result: each table's dataset_id, title, statistics name, " +
    "dates, total_records; if enhanced also its dimensions (sample labels) and requires_filtering; official-term suggestions. " +
    "Next: fetch_dataset_auto or fetch_dataset_filtered with a dataset_id; apply_keyword_suggestions to search with official terms.",
  input: Input,
  output: Output,
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true },
  summarize: (out) =>
    (out.results.length === 0
      ? `No e-Stat table matched 「${out.query}」.` +
        (splitTerms(out.query).length > 1 ? " A table must contain every word: search again with fewer words, or join them with OR." : "")
      : `${out.total_found === 1 ? "1 table matches" : `${out.total_found} tables match`} 「${out.query}」 (scoring ${out.scoring_method}); ` +
        "fetch one by dataset_id.") +
    (out.results.some((r) => r.requires_filtering === true)
      ? " requires_filtering true: more rows than one e-Stat page; the fetch tools still get them all (in pages), or narrow with fetch_dataset_filtered."
      : "") +
    (out.suggestions.length > 0 ? " suggestions: official terms for words of the query; apply_keyword_suggestions rewrites it." : ""),
  summaryStates: ["query", "scoring_method", "total_found"],
  run: (input) =>
    Effect.gen(function* () {
      const config = yield* AppConfig
      const context = yield* ToolContext
      // stored_only: the stored tables, described by their cached metadata; e-Stat is not asked.
      const { tables, total } = input.stored_only
        ? yield* Effect.map(
          storedCandidates(input.query, { statsField: input.stats_field, statsCode: input.stats_code, updatedSince: input.updated_since }),
          (found) => ({ tables: found, total: found.length })
        )
        : yield* collectCandidates(input)
      yield* context.progress({ progress: 1, message: `${tables.length} candidates of ${total}` })
      const now = new Date(yield* Clock.currentTimeMillis)
      const basic = rankTables({ query: input.query, tables, method: "basic", now })
      let ranked = basic
      const warnings: Array<string> = []
      const metas = new Map<string, TableMeta>()
      if (input.scoring_method === "enhanced" && basic.length > 0) {
        const pool = basic.slice(0, enhancedPoolSize(input.max_results)).map((r) => r.table)
        // stored_only: only the pool's metadata is read (again) from the cache, however many tables matched.
        const fetched = input.stored_only ? { metas: yield* storedMetadataOf(pool), warnings: [] } : yield* fetchMetas(pool)
        fetched.metas.forEach((meta, id) => metas.set(id, meta))
        warnings.push(...fetched.warnings)
        ranked = rankTables({ query: input.query, tables: pool, metas, method: "enhanced", now })
      }
      const top = ranked.slice(0, input.max_results)
      const stored = yield* storedRunsOf(top.map((r) => r.table))
      const results = top.map((r, index) => {
        const meta = metas.get(r.table.statsDataId)
        const storedRun = stored.get(r.table.statsDataId)
        const base = {
          dataset_id: r.table.statsDataId,
          title: r.table.title,
          statistics_name: r.table.statisticsName,
          gov_org: r.table.govOrg,
          survey_date: r.table.surveyDate,
          open_date: r.table.openDate,
          updated_date: r.table.updatedDate,
          total_records: r.table.totalRecords,
          score: r.score,
          rank: index + 1,
          ...(storedRun === undefined ? {} : { stored: storedRun })
        }
        return meta === undefined ? base : {
          ...base,
          dimensions: summarizeDimensions(meta),
          requires_filtering: (r.table.totalRecords ?? 0) > config.estatPageSize
        }
      })
      const output: Output = {
        query: input.query,
        scoring_method: input.scoring_method,
        total_found: total,
        results,
        suggestions: input.auto_suggest ? suggestKeywords(input.query).map((s) => ({ ...s, alternatives: [...s.alternatives] })) : [],
        warnings
      }
      return output
    })
})
