/**
 * Sample tables for the mocked e-Stat (demo, embedders' tests), computed here: no recorded data.
 * Between them they show what real tables do — area hierarchies, units per item and per cell,
 * suppressed cells (`-` `***` `X` `…`), annotations, and year, fiscal-year, quarter and month
 * time codes — and one table large enough to need several pages.
 */
import { classes, cubeTable, hash01 } from "./cube.js"
import { generatedTable } from "./generated.js"
import type { FakeClass, FakeTable, FakeTableInfo } from "./model.js"

/** The 47 prefectures with their population in thousands (2020 Census, rounded). */
const prefectureList: ReadonlyArray<readonly [name: string, thousands: number]> = [
  ["北海道", 5225], ["青森県", 1238], ["岩手県", 1211], ["宮城県", 2302], ["秋田県", 960], ["山形県", 1068],
  ["福島県", 1833], ["茨城県", 2867], ["栃木県", 1933], ["群馬県", 1939], ["埼玉県", 7345], ["千葉県", 6284],
  ["東京都", 14048], ["神奈川県", 9237], ["新潟県", 2201], ["富山県", 1035], ["石川県", 1133], ["福井県", 767],
  ["山梨県", 810], ["長野県", 2048], ["岐阜県", 1979], ["静岡県", 3633], ["愛知県", 7542], ["三重県", 1770],
  ["滋賀県", 1414], ["京都府", 2578], ["大阪府", 8838], ["兵庫県", 5465], ["奈良県", 1324], ["和歌山県", 923],
  ["鳥取県", 553], ["島根県", 671], ["岡山県", 1888], ["広島県", 2800], ["山口県", 1342], ["徳島県", 720],
  ["香川県", 950], ["愛媛県", 1335], ["高知県", 692], ["福岡県", 5135], ["佐賀県", 811], ["長崎県", 1312],
  ["熊本県", 1738], ["大分県", 1124], ["宮崎県", 1070], ["鹿児島県", 1588], ["沖縄県", 1467]
]

const prefectureCode = (index: number) => `${String(index + 1).padStart(2, "0")}000`
const nationalTotal = prefectureList.reduce((sum, [, thousands]) => sum + thousands, 0)

const areaClasses: ReadonlyArray<FakeClass> = [
  { code: "00000", name: "全国", level: "1" },
  ...prefectureList.map(([name], i): FakeClass => ({ code: prefectureCode(i), name, level: "2", parentCode: "00000" }))
]
const populationOf = new Map<string, number>([["00000", nationalTotal], ...prefectureList.map(([, n], i) => [prefectureCode(i), n] as const)])

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i)
const mm = (month: number) => String(month).padStart(2, "0")

/** Calendar years, newest first: `2024000000`. */
const yearClasses = (from: number, to: number): ReadonlyArray<FakeClass> =>
  range(from, to).reverse().map((y) => ({ code: `${y}000000`, name: `${y}年`, level: "1" }))

/** Fiscal years (April–March), newest first: `2024100000`. */
const fiscalYearClasses = (from: number, to: number): ReadonlyArray<FakeClass> =>
  range(from, to).reverse().map((y) => ({ code: `${y}100000`, name: `${y}年度`, level: "1" }))

/** Months, newest first: `2026000909` (the month written twice). */
const monthClasses = (fromYear: number, toYear: number, lastMonth: number): ReadonlyArray<FakeClass> =>
  range(fromYear, toYear).reverse().flatMap((y) =>
    range(1, y === toYear ? lastMonth : 12).reverse().map((m) => ({ code: `${y}00${mm(m)}${mm(m)}`, name: `${y}年${m}月`, level: "4" })))

/** Quarters, newest first: `2026000406` (first and last month), under their half-year (`2026010000`). */
const quarterClasses = (fromYear: number, toYear: number, lastQuarter: number): ReadonlyArray<FakeClass> =>
  range(fromYear, toYear).reverse().flatMap((y) =>
    range(1, y === toYear ? lastQuarter : 4).reverse().map((q) => ({
      code: `${y}00${mm(q * 3 - 2)}${mm(q * 3)}`,
      name: `${y}年${q}期（${q * 3 - 2}～${q * 3}月期）`,
      level: "3",
      parentCode: `${y}0${q <= 2 ? 1 : 2}0000`
    })))

const MIC = ["00200", "総務省"] as const
const MHLW = ["00450", "厚生労働省"] as const

const info = (fields: Omit<FakeTableInfo, "smallArea" | "openDate" | "tabulationCategory" | "tableName"> & { readonly tableName?: string }): FakeTableInfo => {
  const title = typeof fields.title === "string" ? fields.title : fields.title.text
  return { smallArea: 0, openDate: fields.updatedDate, tabulationCategory: fields.statisticsName, tableName: fields.tableName ?? title, ...fields }
}

/** Population by sex, prefecture and year (2000–2024): the Census years carry an annotation, 2000–2004 lack the sexes for Okinawa. */
const population = (): FakeTable =>
  cubeTable({
    info: info({
      id: "0009990001", statName: ["00200524", "人口推計"], govOrg: MIC,
      statisticsName: "人口推計（サンプル） 各年10月1日現在人口", title: { no: "1", text: "男女別人口－都道府県（各年10月1日現在）" },
      cycle: "年次", surveyDate: "2000-2024", collectArea: "都道府県",
      mainCategory: ["02", "人口・世帯"], subCategory: ["01", "人口"], updatedDate: "2025-04-14"
    }),
    dimensions: [
      { id: "tab", name: "表章項目", classes: [{ code: "001", name: "人口", level: "", unit: "千人" }] },
      { id: "cat01", name: "男女別", classes: classes([["000", "男女計"], ["001", "男", "000"], ["002", "女", "000"]]) },
      { id: "area", name: "全国・都道府県", classes: areaClasses },
      { id: "time", name: "時間軸（年次）", classes: yearClasses(2000, 2024) }
    ],
    notes: [{ char: "-", text: "数値が得られないもの" }],
    annotations: [{ code: "C1", text: "国勢調査による人口" }],
    unitOf: () => "千人",
    annotationOf: (dims) => (Number(dims["time"]!.slice(0, 4)) % 5 === 0 ? "C1" : undefined),
    value: (dims) => {
      const year = Number(dims["time"]!.slice(0, 4))
      if (dims["area"] === "47000" && dims["cat01"] !== "000" && year < 2005) return "-"
      const base = populationOf.get(dims["area"]!) ?? 0
      // Growth until 2008, decline after; deterministic per area.
      const trend = 1 + (year <= 2008 ? (year - 2008) * 0.002 : (2008 - year) * (0.002 + hash01(dims["area"]!) * 0.006))
      const total = Math.round(base * trend)
      const male = Math.round(total * 0.486)
      return String(dims["cat01"] === "000" ? total : dims["cat01"] === "001" ? male : total - male)
    }
  })

/** Consumer price index, monthly (2020-01 … 2026-09), by item and city: index (2020=100) and year-on-year change (%) per cell. */
const consumerPrices = (): FakeTable => {
  const items = classes([["0001", "総合"], ["0002", "生鮮食品を除く総合", "0001"], ["0100", "食料", "0001"], ["0200", "住居", "0001"],
    ["0300", "光熱・水道", "0001"], ["0400", "家具・家事用品", "0001"], ["0500", "被服及び履物", "0001"], ["0600", "保健医療", "0001"],
    ["0700", "交通・通信", "0001"], ["0800", "教育", "0001"]])
  const cities = classes([["00000", "全国"], ["13100", "東京都区部"], ["27100", "大阪市"], ["23100", "名古屋市"], ["01100", "札幌市"],
    ["04100", "仙台市"], ["34100", "広島市"], ["40130", "福岡市"], ["47201", "那覇市"]])
  return cubeTable({
    info: info({
      id: "0009990002", statName: ["00200573", "消費者物価指数"], govOrg: MIC,
      statisticsName: "消費者物価指数（サンプル） 2020年基準", title: { no: "2", text: "中分類指数－全国，主要都市 月次" },
      cycle: "月次", surveyDate: "202001-202609", collectArea: "全国",
      mainCategory: ["14", "物価"], subCategory: ["01", "物価"], updatedDate: "2026-10-24"
    }),
    dimensions: [
      { id: "tab", name: "表章項目", classes: [{ code: "1", name: "指数", level: "", unit: "2020年=100" }, { code: "3", name: "前年同月比", level: "", unit: "%" }] },
      { id: "cat01", name: "品目", classes: items },
      { id: "area", name: "地域", classes: cities },
      { id: "time", name: "時間軸（月次）", classes: monthClasses(2020, 2026, 9) }
    ],
    notes: [{ char: "…", text: "前年同月の指数がなく計算できないもの" }],
    unitOf: (dims) => (dims["tab"] === "3" ? "%" : undefined),
    value: (dims) => {
      const year = Number(dims["time"]!.slice(0, 4))
      const month = Number(dims["time"]!.slice(6, 8))
      if (dims["tab"] === "3" && year === 2020) return "…"
      const drift = hash01(`${dims["cat01"]}${dims["area"]}`) * 0.004
      const index = (y: number) => 100 * (1 + (0.001 + drift) * ((y - 2020) * 12 + month - 6)) + hash01(`${dims["cat01"]}${dims["area"]}${y}${month}`) * 0.8
      return dims["tab"] === "1" ? index(year).toFixed(1) : ((index(year) / index(year - 1) - 1) * 100).toFixed(1)
    }
  })
}

/** Labour force by sex and age group, quarterly (2018 Q1 … 2026 Q2): persons (万人) and the unemployment rate (%), units per item. */
const labourForce = (): FakeTable => {
  const ages = classes([["00", "総数"], ["01", "15～24歳", "00"], ["02", "25～34歳", "00"], ["03", "35～44歳", "00"], ["04", "45～54歳", "00"], ["05", "55～64歳", "00"], ["06", "65歳以上", "00"]])
  const shareOf: Readonly<Record<string, number>> = { "00": 1, "01": 0.08, "02": 0.18, "03": 0.2, "04": 0.23, "05": 0.17, "06": 0.14 }
  return cubeTable({
    info: info({
      id: "0009990003", statName: ["00200531", "労働力調査"], govOrg: MIC,
      statisticsName: "労働力調査（サンプル） 基本集計", title: { no: "3", text: "男女，年齢階級別労働力人口及び完全失業率 四半期" },
      cycle: "四半期", surveyDate: "201801-202606", collectArea: "全国",
      mainCategory: ["03", "労働・賃金"], subCategory: ["01", "労働力"], updatedDate: "2026-07-31"
    }),
    dimensions: [
      { id: "tab", name: "表章項目", classes: [{ code: "01", name: "労働力人口", level: "", unit: "万人" }, { code: "02", name: "完全失業率", level: "", unit: "%" }] },
      { id: "cat01", name: "男女別", classes: classes([["0", "男女計"], ["1", "男", "0"], ["2", "女", "0"]]) },
      { id: "cat02", name: "年齢階級", classes: ages },
      { id: "time", name: "時間軸（四半期）", classes: quarterClasses(2018, 2026, 2) }
    ],
    notes: [{ char: "X", text: "標本が少なく秘匿したもの" }],
    value: (dims) => {
      // Too few unemployed women of 65 and over in the sample for a rate.
      if (dims["tab"] === "02" && dims["cat01"] === "2" && dims["cat02"] === "06") return "X"
      const sexShare = dims["cat01"] === "0" ? 1 : dims["cat01"] === "1" ? 0.54 : 0.46
      const h = hash01(`${dims["cat01"]}${dims["cat02"]}${dims["time"]}`)
      return dims["tab"] === "01" ? Math.round(6900 * sexShare * shareOf[dims["cat02"]!]! * (0.98 + h * 0.04)).toString() : (2.2 + h * 2.4).toFixed(1)
    }
  })
}

/** Household income by household type and region, fiscal years 2010–2024: average income (万円) and households (千世帯); the latest year is provisional. */
const householdIncome = (): FakeTable =>
  cubeTable({
    info: info({
      id: "0009990004", statName: ["00450061", "国民生活基礎調査"], govOrg: MHLW,
      statisticsName: "国民生活基礎調査（サンプル） 所得", title: { no: "4", text: "世帯類型，地域ブロック別1世帯当たり平均所得金額及び世帯数 年度" },
      cycle: "年度次", surveyDate: "2010-2024", collectArea: "全国",
      mainCategory: ["07", "企業・家計・経済"], subCategory: ["01", "家計"], updatedDate: "2025-07-04"
    }),
    dimensions: [
      { id: "tab", name: "表章項目", classes: [{ code: "10", name: "平均所得金額", level: "", unit: "万円" }, { code: "20", name: "世帯数", level: "", unit: "千世帯" }] },
      { id: "cat01", name: "世帯類型", classes: classes([["100", "全世帯"], ["110", "高齢者世帯", "100"], ["120", "児童のいる世帯", "100"], ["130", "母子世帯", "100"]]) },
      { id: "area", name: "地域ブロック", classes: classes([["00000", "全国"], ["01000", "北海道"], ["02000", "東北"], ["03000", "関東"], ["04000", "中部"], ["05000", "近畿"], ["06000", "中国・四国"], ["07000", "九州・沖縄"]]) },
      { id: "time", name: "時間軸（年度次）", classes: fiscalYearClasses(2010, 2024) }
    ],
    notes: [{ char: "***", text: "客体数が少なく表章しないもの" }],
    annotations: [{ code: "P", text: "速報値" }],
    annotationOf: (dims) => (dims["time"] === "2024100000" ? "P" : undefined),
    unitOf: (dims) => (dims["tab"] === "10" ? "万円" : "千世帯"),
    value: (dims) => {
      if (dims["cat01"] === "130" && dims["area"] === "01000") return "***"
      const h = hash01(`${dims["cat01"]}${dims["area"]}${dims["time"]}`)
      const base: Readonly<Record<string, number>> = { "100": 545, "110": 312, "120": 785, "130": 328 }
      return dims["tab"] === "10" ? Math.round(base[dims["cat01"]!]! * (0.95 + h * 0.1)).toString() : Math.round(800 + h * 9000).toString()
    }
  })

/** The large sample's shape: 50 items × 48 areas × 130 months = 312,000 rows, computed page by page. */
export const largeSampleShape = { id: "0009990005", categories: 50, areas: 48, months: 130 } as const

/** A table of 312,000 rows (4 pages of e-Stat's 100,000): no cell exists before its page is asked for. */
const largePrices = (): FakeTable => {
  const table = generatedTable({ ...largeSampleShape, specialEvery: 997, annotationEvery: 1009 })
  return { ...table, info: { ...table.info, statisticsName: "消費者物価指数（サンプル） 品目別・地域別 大表", title: "品目，地域別価格指数 月次（312,000行）" } }
}

/** The sample tables, by what they hold. */
export const sampleTableIds = {
  populationByPrefectureAndYear: "0009990001",
  consumerPricesMonthly: "0009990002",
  labourForceBySexAndAge: "0009990003",
  householdIncome: "0009990004",
  largePrices: largeSampleShape.id
} as const

/** Every sample table, built afresh (the small ones' cells are made here; the large one's per page). */
export const sampleTables = (): ReadonlyArray<FakeTable> => [population(), consumerPrices(), labourForce(), householdIncome(), largePrices()]
