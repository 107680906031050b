import { quoteName } from "./sqlGuard.js"

/**
 * The predefined analyses of `analyze_with_athena`, built from the table's real columns (none is
 * assumed): basic = row count and value statistics, by time; advanced = by area, by each other
 * dimension's labels, and the trend over time. Plain SQL both Athena and DuckDB run.
 */
export interface Analysis {
  readonly title: string
  readonly sql: string
}

export const analysesFor = (table: string, columnNames: ReadonlyArray<string>, kind: "basic" | "advanced"): ReadonlyArray<Analysis> => {
  const has = (name: string) => columnNames.includes(name)
  const t = quoteName(table)
  const value = has("value")
  const stats = value ? ", count(value) AS numeric_values, min(value) AS min_value, max(value) AS max_value, avg(value) AS avg_value, stddev_samp(value) AS stddev_value" : ""
  const sums = value ? ", sum(value) AS total, avg(value) AS average" : ""
  const basic: Array<Analysis> = [{ title: "rows and value statistics", sql: `SELECT count(*) AS row_count${stats} FROM ${t}` }]
  if (has("time_year")) {
    basic.push({ title: "by year", sql: `SELECT time_year, count(*) AS row_count${sums} FROM ${t} GROUP BY time_year ORDER BY time_year` })
  }
  if (kind === "basic") return basic
  const advanced: Array<Analysis> = [...basic]
  const dimensions = columnNames.filter((c) => c.endsWith("_code") && c !== "time_code").map((c) => c.slice(0, -"_code".length))
  for (const dimension of dimensions) {
    const code = quoteName(`${dimension}_code`)
    const label = has(`${dimension}_name`) ? `, ${quoteName(`${dimension}_name`)}` : ""
    advanced.push({
      title: `by ${dimension}`,
      sql: `SELECT ${code}${label}, count(*) AS row_count${sums} FROM ${t} GROUP BY ${code}${label} ORDER BY ${value ? "total DESC NULLS LAST" : "row_count DESC"}, ${code}`
    })
  }
  if (has("time_year") && value) {
    advanced.push({
      title: "trend by year",
      sql: `SELECT time_year, total, total - lag(total) OVER (ORDER BY time_year) AS change FROM (SELECT time_year, sum(value) AS total FROM ${t} GROUP BY time_year) AS yearly ORDER BY time_year`
    })
  }
  return advanced
}
