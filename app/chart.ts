import { BarChart, LineChart, ScatterChart } from "echarts/charts"
import { GridComponent, LegendComponent, TooltipComponent } from "echarts/components"
import { type EChartsType, init, use } from "echarts/core"
import { SVGRenderer } from "echarts/renderers"
import type { ChartData } from "./model.js"

// Only what the explorer draws: ~⅓ of ECharts' full build. SVG keeps text as text (selectable, testable).
use([BarChart, LineChart, ScatterChart, GridComponent, LegendComponent, TooltipComponent, SVGRenderer])

export const SUPPRESSED_SERIES = "秘匿・欠測"

export interface Palette {
  readonly text: string
  readonly muted: string
  readonly grid: string
  readonly warning: string
}

const number = new Intl.NumberFormat("ja-JP", { maximumFractionDigits: 2 })

const optionOf = (data: ChartData, palette: Palette) => {
  const yName = data.unit === null ? data.measureLabel : `${data.measureLabel}（${data.unit}）`
  const marks = data.suppressed.map((s) => ({ value: [data.categories[s.index], 0], mark: s.mark, seriesName: s.series }))
  // Bars name every category (47 prefectures fit turned upright); a long time axis thins its labels instead.
  const everyLabel = data.kind === "bar" && data.categories.length <= 60
  const turned = everyLabel && data.categories.length > 10
  return {
    animation: false,
    backgroundColor: "transparent",
    textStyle: { color: palette.text, fontFamily: "inherit" },
    grid: { left: 8, right: 16, top: 40, bottom: 24, containLabel: true },
    tooltip: { trigger: data.kind === "line" ? "axis" : "item", valueFormatter: (v: unknown) => (typeof v === "number" ? number.format(v) : "—") },
    legend: { show: data.series.length > 1 || marks.length > 0, top: 0, textStyle: { color: palette.text } },
    xAxis: {
      type: "category",
      name: data.axisLabel,
      nameLocation: turned ? "end" : "middle",
      nameGap: turned ? 8 : 28,
      data: data.categories,
      axisLabel: { color: palette.muted, interval: everyLabel ? 0 : "auto", rotate: turned ? 90 : 0, hideOverlap: !everyLabel },
      axisLine: { lineStyle: { color: palette.grid } }
    },
    yAxis: {
      type: "value",
      name: yName,
      nameTextStyle: { color: palette.muted, align: "left" },
      axisLabel: { color: palette.muted, formatter: (v: number) => number.format(v) },
      splitLine: { lineStyle: { color: palette.grid } }
    },
    series: [
      ...data.series.map((s) => ({
        type: data.kind,
        name: s.name,
        data: s.values,
        connectNulls: false,
        showSymbol: data.categories.length <= 60,
        cursor: data.kind === "bar" && data.codes.some((c) => c !== null) ? "pointer" : "default"
      })),
      ...(marks.length === 0 ? [] : [{
        type: "scatter",
        name: SUPPRESSED_SERIES,
        data: marks,
        symbol: "diamond",
        symbolSize: 10,
        itemStyle: { color: palette.warning },
        label: { show: true, position: "top", color: palette.warning, formatter: (p: { data: { mark: string } }) => p.data.mark },
        tooltip: { formatter: (p: { data: { mark: string; seriesName: string }; name: string }) => `${p.data.seriesName} ${p.name}: 秘匿・欠測（${p.data.mark}）` }
      }])
    ]
  }
}

/** The chart in `element`, drawn again for each new data or palette; bar clicks report the category's index. */
export const makeChart = (element: HTMLElement, onBarClick: (index: number) => void) => {
  let chart: EChartsType | undefined
  return {
    draw: (data: ChartData, palette: Palette) => {
      chart ??= init(element, undefined, { renderer: "svg" })
      chart.off("click")
      chart.on("click", (params) => {
        if (params.seriesType === "bar" && typeof params.dataIndex === "number") onBarClick(params.dataIndex)
      })
      chart.setOption(optionOf(data, palette), { notMerge: true })
    },
    resize: () => chart?.resize(),
    clear: () => {
      chart?.dispose()
      chart = undefined
    }
  }
}
