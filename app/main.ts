import { App, applyDocumentTheme, applyHostStyleVariables } from "@modelcontextprotocol/ext-apps"
import { makeChart, type Palette } from "./chart.js"
import {
  chartData, columnLabel, defaultView, type Dimension, dimensionLabel, dimensionsOf, drillDownArguments, firstDrawable, hasTime, measuresOf, type Received, receive,
  type ResultTable, type Row, valuesOf, type View
} from "./model.js"
import { renderTable } from "./table.js"

/**
 * The explorer: draws what analyze_with_athena or a fetch tool returned (line over time, bars by
 * a dimension, a sortable table), lets the user switch what is shown, and drills down by asking
 * the host to call analyze_with_athena again.
 */

const byId = <T extends HTMLElement>(id: string) => document.getElementById(id) as T
const heading = byId<HTMLHeadingElement>("heading")
const status = byId<HTMLParagraphElement>("status")
const controls = byId<HTMLDivElement>("controls")
const chartBox = byId<HTMLDivElement>("chart")
const notes = byId<HTMLParagraphElement>("notes")
const tableBox = byId<HTMLDivElement>("table")
const back = byId<HTMLButtonElement>("back")

const app = new App({ name: "estat-mcp explorer", version: "1.0.0" }, {}, { autoResize: true })
type HostContext = ReturnType<App["getHostContext"]>

/** What was received, newest last: drill-downs stack on the tool's own result; back pops them. */
const history: Array<Received> = []
/** Where the user was in each result below the newest, to return there. */
const places: Array<{ readonly tableIndex: number; readonly view: View | undefined }> = []
let tableIndex = 0
let view: View | undefined

const paletteOf = (): Palette => {
  const css = getComputedStyle(document.documentElement)
  const read = (name: string) => css.getPropertyValue(name).trim()
  return { text: read("--text"), muted: read("--muted"), grid: read("--grid"), warning: read("--warning") }
}

const chart = makeChart(chartBox, (index) => {
  const current = history.at(-1)
  const table = current?.tables[tableIndex]
  if (current === undefined || table === undefined || view === undefined) return
  const data = chartData(table, view, current.dimensionNames)
  const code = data.codes[index]
  const dim = dimensionsOf(table, current.dimensionNames).find((d) => d.id === view?.axis)
  if (code !== null && code !== undefined && dim !== undefined) void drillDown(dim, code, data.categories[index] ?? code)
})

const setStatus = (text: string, error = false) => {
  status.textContent = text
  status.classList.toggle("error", error)
}

const select = (label: string, options: ReadonlyArray<readonly [string, string]>, value: string, onChange: (value: string) => void) => {
  const wrap = document.createElement("label")
  wrap.append(label)
  const input = document.createElement("select")
  for (const [key, text] of options) input.add(new Option(text, key, false, key === value))
  input.addEventListener("change", () => onChange(input.value))
  wrap.append(input)
  controls.append(wrap)
  return input
}

const drawControls = (received: Received, table: ResultTable, current: View) => {
  controls.replaceChildren()
  if (received.tables.length > 1) {
    select("表", received.tables.map((t, i) => [String(i), t.title] as const), String(tableIndex), (value) => {
      tableIndex = Number(value)
      view = undefined
      draw()
    }).id = "pick-table"
  }
  const dims = dimensionsOf(table, received.dimensionNames).filter((d) => valuesOf(d, table.rows).length > 1)
  const axes = [...(hasTime(table) ? [["time", dimensionLabel("time", received.dimensionNames)] as const] : []), ...dims.map((d) => [d.id, d.label] as const)]
  select("横軸", axes, current.axis, (axis) => {
    view = { ...current, axis, series: axis === "time" ? current.series : null }
    draw()
  }).id = "pick-axis"
  if (current.axis === "time" && dims.length > 0) {
    select("系列", [["", "なし"], ...dims.map((d) => [d.id, d.label] as const)], current.series ?? "", (series) => {
      view = { ...current, series: series === "" ? null : series }
      draw()
    }).id = "pick-series"
  }
  const measures = measuresOf(table)
  if (measures.length > 1) {
    select("値", measures.map((m) => [m, columnLabel(m)] as const), current.measure, (measure) => {
      view = { ...current, measure }
      draw()
    }).id = "pick-measure"
  }
  for (const dim of dims.filter((d) => d.id !== current.axis && d.id !== current.series)) {
    const values = valuesOf(dim, table.rows)
    select(dim.label, values.map((v) => [v.key, v.label] as const), current.fixed[dim.id] ?? values[0]!.key, (key) => {
      view = { ...current, fixed: { ...current.fixed, [dim.id]: key } }
      draw()
    }).dataset["dimension"] = dim.id
  }
}

const draw = () => {
  const received = history.at(-1)
  back.hidden = history.length <= 1
  if (received === undefined) return
  heading.textContent = received.heading
  const table = received.tables[tableIndex] ?? received.tables[0]
  if (table === undefined) return
  view ??= defaultView(table, received.dimensionNames)
  if (view === undefined) {
    controls.replaceChildren()
    chart.clear()
    chartBox.hidden = true
    notes.textContent = "グラフにできる数値の列がありません。"
  } else {
    drawControls(received, table, view)
    const data = chartData(table, view, received.dimensionNames)
    chartBox.hidden = false
    chart.draw(data, paletteOf())
    const suppressed = data.suppressed.length === 0 ? [] : [`◆ 秘匿・欠測 ${data.suppressed.length} 件（e-Stat の表示: ${[...new Set(data.suppressed.map((s) => s.mark))].join(" ")}）`]
    notes.textContent = [
      data.unit === null ? "" : `単位: ${data.unit}`,
      ...data.heldAt,
      ...suppressed,
      table.truncated ? "max_rows で打ち切られた結果です" : ""
    ].filter((s) => s !== "").join("　/　")
  }
  const drillable = received.tableName === null ? undefined : dimensionsOf(table, received.dimensionNames).find((d) => d.codeColumn !== null && d.id === view?.axis)
  renderTable(tableBox, table, {
    names: received.dimensionNames,
    drillColumn: drillable?.codeColumn ?? null,
    onDrill: (row: Row) => {
      if (drillable === undefined) return
      const code = String(row[drillable.codeColumn ?? ""] ?? "")
      void drillDown(drillable, code, String(row[drillable.nameColumn ?? ""] ?? code))
    }
  })
}

/** A tool's result, or (`narrowedTo`: what a drill-down chose, e.g. 地域: 沖縄県) one on top of it. */
const show = (structured: unknown, narrowedTo: string | null) => {
  const read = receive(structured)
  if (read === undefined) {
    setStatus("この結果には表示できる表がありません。")
    return
  }
  const received = narrowedTo === null ? read : { ...read, heading: `${read.heading} ／ ${narrowedTo}` }
  if (narrowedTo === null) {
    history.length = 0
    places.length = 0
  } else {
    places.push({ tableIndex, view })
  }
  history.push(received)
  tableIndex = firstDrawable(received)
  view = undefined
  setStatus("")
  draw()
  // A new result starts at its first row, wherever the last one was scrolled to.
  tableBox.scrollTop = 0
}

/** Asks the host to call analyze_with_athena for every row where `dim` is `code` (`label`); its answer is drawn here. */
const drillDown = async (dim: Dimension, code: string, label: string) => {
  const tableName = history.at(-1)?.tableName
  if (tableName === null || tableName === undefined || dim.codeColumn === null) return
  setStatus(`${label} の全行を analyze_with_athena で取得中…`)
  const result = await app.callServerTool({ name: "analyze_with_athena", arguments: drillDownArguments(tableName, dim.codeColumn, code) }).catch((error: unknown) => ({
    isError: true,
    content: [{ type: "text" as const, text: error instanceof Error ? error.message : String(error) }],
    structuredContent: undefined
  }))
  if (result.isError === true) {
    const text = result.content.find((c) => c.type === "text")
    setStatus(`取得できませんでした: ${text !== undefined && "text" in text ? text.text : ""}`, true)
    return
  }
  show(result.structuredContent, `${dim.label}: ${label}`)
}

back.addEventListener("click", () => {
  if (history.length <= 1) return
  history.pop()
  const place = places.pop()
  tableIndex = place?.tableIndex ?? 0
  view = place?.view
  draw()
})

/** Theme, the host's style variables and its size hints. */
const applyContext = (context: HostContext) => {
  if (context === undefined) return
  if (context.theme !== undefined) applyDocumentTheme(context.theme)
  if (context.styles?.variables !== undefined) applyHostStyleVariables(context.styles.variables)
  const size = context.containerDimensions
  if (size !== undefined) {
    const height = "height" in size ? size.height : size.maxHeight
    // The chart takes at most half of the height the host gives; the table scrolls below it.
    if (height !== undefined) document.documentElement.style.setProperty("--chart-height", `${Math.max(180, Math.min(420, Math.floor(height / 2)))}px`)
    if ("height" in size) document.documentElement.style.setProperty("--app-height", `${size.height}px`)
  }
  if (history.length > 0) draw()
  chart.resize()
}

app.ontoolinput = () => setStatus("結果を待っています…")
app.ontoolresult = (result) => {
  if (result.isError === true) setStatus("ツールがエラーを返しました。", true)
  else show(result.structuredContent, null)
}
app.ontoolcancelled = () => setStatus("ツールの実行が取り消されました。", true)
app.onhostcontextchanged = applyContext
window.addEventListener("resize", () => chart.resize())

app.connect().then(
  () => applyContext(app.getHostContext()),
  (error: unknown) => setStatus(`ホストに接続できませんでした: ${error instanceof Error ? error.message : String(error)}`, true)
)
