import { type Cell, columnLabel, type Direction, type ResultTable, type Row, sortRows, suppressedMark } from "./model.js"

const number = new Intl.NumberFormat("ja-JP", { maximumFractionDigits: 4 })

/** Years and months are not amounts: no digit grouping (2024, not 2,024). */
const isCalendar = (column: string) => /^time_/.test(column)

const cellText = (cell: Cell | undefined, column = "") =>
  cell === null || cell === undefined ? "" : typeof cell === "number" && !isCalendar(column) ? number.format(cell) : String(cell)

const element = <K extends keyof HTMLElementTagNameMap>(tag: K, text?: string, className?: string) => {
  const node = document.createElement(tag)
  if (text !== undefined) node.textContent = text
  if (className !== undefined) node.className = className
  return node
}

export interface TableOptions {
  readonly names: Readonly<Record<string, string>>
  /** The column a row's drill-down button narrows by (e.g. area_code); null: no buttons. */
  readonly drillColumn: string | null
  readonly onDrill: (row: Row) => void
}

/** A table of every row, sorted by a click on a header (again: the other way); suppressed cells show e-Stat's mark. */
export const renderTable = (container: HTMLElement, table: ResultTable, options: TableOptions) => {
  let sort: { column: string; direction: Direction } | null = null
  const draw = () => {
    const rows = sort === null ? table.rows : sortRows(table.rows, sort.column, sort.direction)
    const grid = element("table", undefined, "rows")
    const head = grid.createTHead().insertRow()
    for (const column of table.columns) {
      const th = element("th", columnLabel(column, options.names))
      th.title = column
      th.dataset["column"] = column
      th.tabIndex = 0
      const state = sort?.column === column ? sort.direction : null
      th.setAttribute("aria-sort", state === "asc" ? "ascending" : state === "desc" ? "descending" : "none")
      if (state !== null) th.append(element("span", state === "asc" ? " ▲" : " ▼", "arrow"))
      const toggle = () => {
        sort = { column, direction: sort?.column === column && sort.direction === "asc" ? "desc" : "asc" }
        draw()
      }
      th.addEventListener("click", toggle)
      th.addEventListener("keydown", (event) => (event.key === "Enter" || event.key === " ") && toggle())
      head.append(th)
    }
    if (options.drillColumn !== null) head.append(element("th", ""))
    const body = grid.createTBody()
    for (const row of rows) {
      const tr = body.insertRow()
      for (const column of table.columns) {
        const mark = column === "value" ? suppressedMark(row, "value") : null
        const td = element("td", mark ?? cellText(row[column], column), mark === null ? (typeof row[column] === "number" ? "number" : undefined) : "suppressed")
        if (mark !== null) td.title = `秘匿・欠測（${mark}）`
        tr.append(td)
      }
      const drillColumn = options.drillColumn
      if (drillColumn !== null) {
        const td = tr.insertCell()
        if (row[drillColumn] !== null && row[drillColumn] !== undefined) {
          const button = element("button", "推移を見る", "drill")
          button.title = `${cellText(row[drillColumn])} の全行を analyze_with_athena で取得`
          button.addEventListener("click", () => options.onDrill(row))
          td.append(button)
        }
      }
    }
    container.replaceChildren(grid)
  }
  draw()
}
