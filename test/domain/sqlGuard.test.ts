import { Either } from "effect"
import { describe, expect, it } from "@effect/vitest"
import { guardQuery, isIdentifier } from "../../src/domain/sqlGuard.js"

const reasonOf = (sql: string) => Either.match(guardQuery(sql), { onLeft: (e) => e.message, onRight: () => "accepted" })

/**
 * The statement check of caller SQL on Athena: one statement, a query by its first word. What a
 * query reads or writes is IAM's to decide (the analysis role; deploy/test asserts its policy).
 * [attack, what the reason must mention]
 */
const attacks: ReadonlyArray<readonly [string, string]> = [
  ["DROP TABLE estat_db.population", "it starts with DROP"],
  ["drop table population", "it starts with drop"],
  ["DELETE FROM population", "it starts with DELETE"],
  ["INSERT INTO population VALUES (1)", "it starts with INSERT"],
  ["UPDATE population SET value = 0", "it starts with UPDATE"],
  ["MERGE INTO t USING s ON t.id = s.id WHEN MATCHED THEN DELETE", "it starts with MERGE"],
  ["CREATE TABLE x AS SELECT * FROM population", "it starts with CREATE"],
  ["ALTER TABLE population ADD COLUMNS (x int)", "it starts with ALTER"],
  ["TRUNCATE TABLE population", "it starts with TRUNCATE"],
  ["UNLOAD (SELECT * FROM population) TO 's3://evil/' WITH (format='CSV')", "it starts with UNLOAD"],
  ["CALL system.sync_partition_metadata('db','t','FULL')", "it starts with CALL"],
  ["GRANT SELECT ON population TO evil", "it starts with GRANT"],
  ["MSCK REPAIR TABLE population", "it starts with MSCK"],
  ["SELECT 1; DROP TABLE population", "more than one statement"],
  ["SELECT 1;DROP TABLE population;", "more than one statement"],
  ["SELECT 1; SELECT 2", "more than one statement"],
  ["SELECT * FROM population; -- harmless\n; DROP TABLE population", "more than one statement"],
  ["SELECT 1 /* ; */ ; DELETE FROM population", "more than one statement"],
  ["/* SELECT */ DELETE FROM population", "it starts with DELETE"],
  ["-- SELECT\nDROP TABLE population", "it starts with DROP"],
  ["SELECT 1 /* unterminated", "comment is not closed"],
  ["SELECT 'unterminated", "string is not closed"],
  ['SELECT "unterminated FROM t', "quoted identifier is not closed"],
  ["ＳＥＬＥＣＴ * FROM population", "is not allowed outside strings"],
  ["SELECT * FROM pоpulation", "U+043E"], // Cyrillic о
  ["SELECT\u200B1", "U+200B"], // zero-width space
  ["SELECT * FROM population WHERE x = 1 \\; DROP TABLE t", "U+005C"],
  ["ATTACH 'evil.db' AS evil", "it starts with ATTACH"],
  ["INSTALL httpfs", "it starts with INSTALL"],
  ["LOAD httpfs", "it starts with LOAD"],
  ["COPY population TO '/tmp/x.csv'", "it starts with COPY"],
  ["SET memory_limit = '100GB'", "it starts with SET"],
  ["PRAGMA database_list", "it starts with PRAGMA"],
  ["EXPLAIN ANALYZE SELECT 1", "it starts with EXPLAIN"],
  ["SHOW TABLES", "it starts with SHOW"],
  ["", "the query is empty"],
  ["   -- only a comment", "the query is empty"],
  ["SELECT * FROM population WHERE name = 'x' OR 1=1; EXECUTE IMMEDIATE 'DROP TABLE t'", "more than one statement"]
]

const legitimate: ReadonlyArray<string> = [
  "SELECT count(*) FROM population",
  "select * from estat_db.population limit 10",
  "SELECT time_year, sum(value) AS total FROM population GROUP BY time_year ORDER BY time_year",
  "SELECT area_name, avg(value) FROM population WHERE value IS NOT NULL GROUP BY 1 ORDER BY 2 DESC LIMIT 20",
  "WITH yearly AS (SELECT time_year, sum(value) AS v FROM population GROUP BY 1) SELECT time_year, v, v - lag(v) OVER (ORDER BY time_year) AS diff FROM yearly",
  "SELECT cat01_name, approx_percentile(value, 0.5) FROM population GROUP BY cat01_name",
  "SELECT * FROM population WHERE area_name = 'O''Brien -- not a comment; nor a statement'",
  'SELECT "select", "drop" FROM "weird table"',
  "SELECT replace(area_name, '都', '') AS short FROM population",
  "SELECT CAST(value AS DECIMAL(12, 2)) FROM population",
  "SELECT date_trunc('month', current_date)",
  "SELECT a.area_name, b.value FROM population a JOIN population b ON a.area_code = b.area_code WHERE a.time_year = 2020",
  "SELECT * FROM population WHERE area_code IN (SELECT area_code FROM population WHERE value > 1e6)",
  "SELECT time_year FROM population UNION ALL SELECT time_year FROM households",
  "SELECT CASE WHEN value > 100 THEN 'high' ELSE 'low' END AS band, count(*) FROM population GROUP BY 1",
  "SELECT stddev_samp(value), min(value), max(value) FROM population;",
  "/* yearly totals */ SELECT time_year, sum(value) FROM population -- by year\n GROUP BY time_year",
  "(SELECT 1) UNION (SELECT 2)",
  "VALUES (1, 'a'), (2, 'b')",
  "SELECT regexp_like(area_name, '^東京') FROM population",
  "SELECT row_number() OVER (PARTITION BY area_code ORDER BY time_year DESC) AS rn FROM population",
  "SELECT * FROM population TABLESAMPLE BERNOULLI (10)",
  "SELECT 'FROM x; DROP TABLE y' AS text"
]

describe("Athena statement check", () => {
  it(`rejects ${attacks.length} attacks with a clear reason`, () => {
    for (const [sql, reason] of attacks) {
      const message = reasonOf(sql)
      expect(message, sql).toMatch(/^The query was rejected: /)
      expect(message, sql).toContain(reason)
    }
  })

  it(`accepts ${legitimate.length} analytical queries`, () => {
    for (const sql of legitimate) expect(reasonOf(sql), sql).toBe("accepted")
    expect(guardQuery("SELECT 1;  ")).toEqual(Either.right("SELECT 1"))
    expect(guardQuery("SELECT 1; -- done; really")).toEqual(Either.right("SELECT 1"))
  })

  it("validates identifiers (table_name) instead of quoting arbitrary text into SQL", () => {
    for (const good of ["population", "estat_0003445078", "_tmp"]) expect(isIdentifier(good), good).toBe(true)
    for (const bad of ["Population", "pop; drop table x", "pop--", 'pop"', "1pop", "pop-ulation", "ｐｏｐ", "", "a".repeat(129), "db.table"]) {
      expect(isIdentifier(bad), bad).toBe(false)
    }
  })
})
