import { classes, cubeTable, hash01 } from "./cube.js"
import type { FakeTable, FakeTableInfo } from "./model.js"

/**
 * Fixture tables shaped like recorded e-Stat responses (ESTAT-API.md §7–§9, §17): the 2020
 * Census population by sex with an area hierarchy, the 2025-base CPI (monthly, a single NOTE,
 * index rows without @unit, sparse), and a catalogue of other tables for search.
 */

const census = (): FakeTable => {
  const areas = [
    ["00000", "全国", "1", undefined, 126146099],
    ["01000", "北海道", "2", "00000", 5224614],
    ["01100", "札幌市", "3", "01000", 1973395],
    ["13000", "東京都", "2", "00000", 14047594],
    ["13100", "特別区部", "4", "13000", 9733276],
    ["13101", "千代田区", "4", "13100", 66680],
    ["13102", "中央区", "4", "13100", 169179],
    ["13103", "港区", "4", "13100", 260486],
    ["27000", "大阪府", "2", "00000", 8837685],
    ["27100", "大阪市", "3", "27000", 2752412],
    ["47000", "沖縄県", "2", "00000", 1467480],
    ["47201", "那覇市", "4", "47000", 317625]
  ] as const
  const totals = new Map<string, number>(areas.map((a) => [a[0], a[4]]))
  return cubeTable({
    info: {
      id: "0003445078", statName: ["00200521", "国勢調査"], govOrg: ["00200", "総務省"],
      statisticsName: "令和2年国勢調査 人口等基本集計 （主な内容：男女・年齢・配偶関係，世帯の構成，住居の状態，母子・父子世帯，国籍など）",
      title: { no: "1-1-1", text: "男女別人口－全国，都道府県，市区町村（2000年（平成12年）市区町村含む）" },
      cycle: "-", surveyDate: "202010", openDate: "2021-11-30", smallArea: 0, collectArea: "市区町村",
      mainCategory: ["02", "人口・世帯"], subCategory: ["01", "人口"], updatedDate: "2022-06-24",
      tabulationCategory: "人口等基本集計", tableName: "男女別人口－全国，都道府県，市区町村"
    },
    dimensions: [
      { id: "tab", name: "表章事項", classes: [{ code: "2020_01", name: "人口", level: "", unit: "人" }] },
      { id: "cat01", name: "男女", classes: classes([["0", "総数"], ["1", "男", "0"], ["2", "女", "0"]]).map((c, i) => (i === 0 ? c : { ...c, level: "2" })) },
      { id: "area", name: "全国，都道府県，市区町村（2000年市区町村含む）", classes: areas.map(([code, name, level, parentCode]) => ({ code, name, level, ...(parentCode ? { parentCode } : {}) })) },
      { id: "time", name: "時間軸（調査年）", classes: [{ code: "2020000000", name: "2020年", level: "1" }] }
    ],
    notes: [
      { char: "***", text: "当該数値がないもの" },
      { char: "-", text: "当該数値がないもの" }
    ],
    unitOf: () => "人",
    value: (dims) => {
      const total = totals.get(dims["area"]!) ?? 0
      const male = Math.round(total * 0.486)
      if (dims["area"] === "47201" && dims["cat01"] !== "0") return "-"
      return String(dims["cat01"] === "0" ? total : dims["cat01"] === "1" ? male : total - male)
    }
  })
}

const months = (fromYear: number, toYear: number, lastMonth: number) => {
  const out: Array<{ code: string; name: string }> = []
  for (let y = toYear; y >= fromYear; y--) {
    for (let m = y === toYear ? lastMonth : 12; m >= 1; m--) {
      const mm = String(m).padStart(2, "0")
      out.push({ code: `${y}00${mm}${mm}`, name: `${y}年${m}月` })
    }
  }
  return out
}

const cpi = (): FakeTable => {
  const time = months(2025, 2026, 9)
  return cubeTable({
    info: {
      id: "0004052037", statName: ["00200573", "消費者物価指数"], govOrg: ["00200", "総務省"],
      statisticsName: "消費者物価指数 2025年基準消費者物価指数", title: { no: "1", text: "2025年基準消費者物価指数 品目別価格指数 全国，東京都区部 月次" },
      cycle: "月次", surveyDate: "202501-202609", openDate: "2026-10-24", smallArea: 0, collectArea: "全国",
      mainCategory: ["14", "物価"], subCategory: ["01", "物価"], updatedDate: "2026-10-24",
      tabulationCategory: "2025年基準消費者物価指数", tableName: "品目別価格指数"
    },
    dimensions: [
      { id: "tab", name: "表章項目", classes: [{ code: "1", name: "指数", level: "" }, { code: "3", name: "前年同月比・前月比・前年比", level: "", unit: "%" }] },
      { id: "cat01", name: "品目", classes: classes([["0001", "総合"], ["0002", "生鮮食品を除く総合", "0001"], ["0161", "食料", "0001"]]) },
      { id: "area", name: "地域", classes: classes([["00000", "全国"], ["13100", "東京都区部"]]) },
      { id: "time", name: "時間軸（月次）", classes: time.map((t) => ({ ...t, level: "4" })) }
    ],
    notes: [{ char: "***", text: "該当データがない場合を示す。" }],
    unitOf: (dims) => (dims["tab"] === "3" ? "%" : undefined),
    value: (dims) => {
      // Sparse, as recorded: September 2026 exists for 東京都区部 only.
      if (dims["time"] === "2026000909" && dims["area"] === "00000") return undefined
      if (dims["cat01"] === "0161" && dims["time"] === "2025000101" && dims["tab"] === "3") return "***"
      const h = hash01(`${dims["cat01"]}${dims["area"]}${dims["time"]}`)
      return dims["tab"] === "1" ? (98 + h * 6).toFixed(1) : (h * 6 - 1).toFixed(1)
    }
  })
}

interface SearchTableSpec {
  readonly id: string
  readonly stat: readonly [string, string]
  readonly org: readonly [string, string]
  readonly statisticsName: string
  readonly title: string
  readonly main: readonly [string, string]
  readonly sub: readonly [string, string]
  readonly cycle: string
  readonly surveyDate: string
  readonly updated: string
  readonly cat01: readonly [string, ReadonlyArray<string>]
  readonly unit: string
}

const prefectures = classes([["00000", "全国"], ["01000", "北海道"], ["13000", "東京都"], ["27000", "大阪府"]])

const fromSpec = (spec: SearchTableSpec): FakeTable => {
  const info: FakeTableInfo = {
    id: spec.id, statName: spec.stat, govOrg: spec.org, statisticsName: spec.statisticsName, title: spec.title,
    cycle: spec.cycle, surveyDate: spec.surveyDate, openDate: spec.updated, smallArea: 0, collectArea: "都道府県",
    mainCategory: spec.main, subCategory: spec.sub, updatedDate: spec.updated,
    tabulationCategory: spec.statisticsName, tableName: spec.title
  }
  const year = spec.surveyDate.slice(0, 4)
  return cubeTable({
    info,
    dimensions: [
      { id: "tab", name: "表章項目", classes: [{ code: "01", name: spec.cat01[0] === "" ? "数値" : "数値", level: "", unit: spec.unit }] },
      { id: "cat01", name: spec.cat01[0], classes: spec.cat01[1].map((name, i) => ({ code: String(i + 1).padStart(3, "0"), name, level: i === 0 ? "1" : "2" })) },
      { id: "area", name: "地域", classes: prefectures },
      { id: "time", name: "時間軸（年次）", classes: [{ code: `${year}000000`, name: `${year}年`, level: "1" }] }
    ],
    notes: [{ char: "-", text: "数字が得られないもの" }],
    unitOf: () => spec.unit,
    value: (dims) => (hash01(spec.id + JSON.stringify(dims)) * 1000).toFixed(0)
  })
}

const MIC = ["00200", "総務省"] as const
const MHLW = ["00450", "厚生労働省"] as const

const searchSpecs: ReadonlyArray<SearchTableSpec> = [
  { id: "0003426933", stat: ["00200564", "家計調査"], org: MIC, statisticsName: "家計調査 家計収支編 二人以上の世帯", title: "年間収入階級別1世帯当たり1か月間の収入と支出", main: ["07", "企業・家計・経済"], sub: ["01", "家計"], cycle: "年次", surveyDate: "2024", updated: "2025-02-07", cat01: ["年間収入階級", ["平均", "200万円未満", "1000万円以上"]], unit: "円" },
  { id: "0003348239", stat: ["00200561", "全国家計構造調査"], org: MIC, statisticsName: "全国家計構造調査 所得に関する結果", title: "世帯の種類，世帯主の年齢階級別年間収入", main: ["07", "企業・家計・経済"], sub: ["01", "家計"], cycle: "-", surveyDate: "2019", updated: "2021-08-31", cat01: ["世帯主の年齢階級", ["総数", "30歳未満", "65歳以上"]], unit: "千円" },
  { id: "0003445080", stat: ["00200521", "国勢調査"], org: MIC, statisticsName: "令和2年国勢調査 人口等基本集計", title: "年齢（5歳階級），男女別人口－都道府県", main: ["02", "人口・世帯"], sub: ["01", "人口"], cycle: "-", surveyDate: "202010", updated: "2022-06-24", cat01: ["年齢（5歳階級）", ["総数", "0～4歳", "65歳以上"]], unit: "人" },
  { id: "0003448233", stat: ["00200524", "人口推計"], org: MIC, statisticsName: "人口推計 各年10月1日現在人口", title: "男女別人口－総人口，日本人人口", main: ["02", "人口・世帯"], sub: ["01", "人口"], cycle: "年次", surveyDate: "2024", updated: "2025-04-14", cat01: ["男女別", ["男女計", "男", "女"]], unit: "千人" },
  { id: "0003411595", stat: ["00200531", "労働力調査"], org: MIC, statisticsName: "労働力調査 基本集計", title: "完全失業率（男女別）", main: ["03", "労働・賃金"], sub: ["01", "労働力"], cycle: "月次", surveyDate: "202609", updated: "2026-10-31", cat01: ["男女別", ["男女計", "男", "女"]], unit: "%" },
  { id: "0003426557", stat: ["00450091", "賃金構造基本統計調査"], org: MHLW, statisticsName: "賃金構造基本統計調査 一般労働者", title: "年齢階級別きまって支給する現金給与額，所定内給与額及び年間賞与その他特別給与額", main: ["03", "労働・賃金"], sub: ["02", "賃金・労働条件"], cycle: "年次", surveyDate: "2025", updated: "2026-03-20", cat01: ["年齢階級", ["年齢計", "～19歳", "60～64歳"]], unit: "千円" },
  { id: "0003084618", stat: ["00450071", "毎月勤労統計調査"], org: MHLW, statisticsName: "毎月勤労統計調査 全国調査", title: "現金給与総額，所定外労働時間（事業所規模5人以上）", main: ["03", "労働・賃金"], sub: ["02", "賃金・労働条件"], cycle: "月次", surveyDate: "202608", updated: "2026-10-08", cat01: ["就業形態", ["就業形態計", "一般労働者", "パートタイム労働者"]], unit: "円" },
  { id: "0003355053", stat: ["00200522", "住宅・土地統計調査"], org: MIC, statisticsName: "令和5年住宅・土地統計調査 住宅数概数集計", title: "住宅の種類・所有の関係別住宅数，空き家率", main: ["08", "住宅・土地・建設"], sub: ["01", "住宅・土地"], cycle: "-", surveyDate: "2023", updated: "2024-04-30", cat01: ["所有の関係", ["総数", "持ち家", "民営借家"]], unit: "戸" },
  { id: "0003109741", stat: ["00100409", "国民経済計算"], org: ["00100", "内閣府"], statisticsName: "四半期別GDP速報 名目", title: "国内総生産（支出側）", main: ["07", "企業・家計・経済"], sub: ["03", "国民経済計算"], cycle: "四半期", surveyDate: "202604-202606", updated: "2026-09-08", cat01: ["国内総生産（支出側）", ["国内総生産", "民間最終消費支出", "輸出"]], unit: "十億円" },
  { id: "0003147040", stat: ["00400001", "学校基本調査"], org: ["00400", "文部科学省"], statisticsName: "学校基本調査 高等教育機関", title: "大学の学校数，在学者数，教員数", main: ["13", "教育・文化・スポーツ・生活"], sub: ["01", "学校教育"], cycle: "年次", surveyDate: "2025", updated: "2025-12-17", cat01: ["設置者", ["計", "国立", "私立"]], unit: "人" },
  { id: "0003411902", stat: ["00450061", "国民生活基礎調査"], org: MHLW, statisticsName: "国民生活基礎調査 所得", title: "世帯類型別1世帯当たり平均所得金額", main: ["15", "社会保障・衛生"], sub: ["02", "保健衛生"], cycle: "年次", surveyDate: "2023", updated: "2024-07-05", cat01: ["世帯類型", ["全世帯", "高齢者世帯", "母子世帯"]], unit: "万円" },
  { id: "0003411680", stat: ["00450011", "人口動態調査"], org: MHLW, statisticsName: "人口動態調査 人口動態統計 確定数 出生", title: "都道府県別出生数及び合計特殊出生率", main: ["02", "人口・世帯"], sub: ["02", "人口動態"], cycle: "年次", surveyDate: "2024", updated: "2025-09-17", cat01: ["出生", ["出生数", "合計特殊出生率", "出生率"]], unit: "人" },
  { id: "0003411682", stat: ["00450011", "人口動態調査"], org: MHLW, statisticsName: "人口動態調査 人口動態統計 確定数 死亡", title: "死因簡単分類別死亡数（悪性新生物＜腫瘍＞ほか）", main: ["02", "人口・世帯"], sub: ["02", "人口動態"], cycle: "年次", surveyDate: "2024", updated: "2025-09-17", cat01: ["死因簡単分類", ["全死因", "悪性新生物＜腫瘍＞", "心疾患"]], unit: "人" },
  { id: "0003218541", stat: ["00200552", "経済センサス‐活動調査"], org: MIC, statisticsName: "令和3年経済センサス‐活動調査 産業別集計", title: "産業（大分類）別事業所数，従業者数及び売上（収入）金額", main: ["07", "企業・家計・経済"], sub: ["02", "企業活動"], cycle: "-", surveyDate: "2021", updated: "2023-06-27", cat01: ["産業大分類", ["全産業", "製造業", "卸売業，小売業"]], unit: "事業所" },
  { id: "0003099991", stat: ["00500209", "農林業センサス"], org: ["00500", "農林水産省"], statisticsName: "2020年農林業センサス", title: "農業経営体数（都道府県別）", main: ["04", "農林水産業"], sub: ["01", "農業"], cycle: "-", surveyDate: "2020", updated: "2021-11-30", cat01: ["経営体区分", ["農業経営体", "個人経営体", "団体経営体"]], unit: "経営体" },
  { id: "0003288322", stat: ["00020111", "民間企業の勤務条件制度等調査"], org: ["00020", "人事院"], statisticsName: "民間企業の勤務条件制度等調査", title: "企業規模別時間外労働の割増賃金率", main: ["03", "労働・賃金"], sub: ["02", "賃金・労働条件"], cycle: "年次", surveyDate: "2016", updated: "2019-03-30", cat01: ["企業規模", ["規模計", "500人以上", "100人未満"]], unit: "%" },
  { id: "0003412790", stat: ["00200502", "社会生活基本調査"], org: MIC, statisticsName: "令和3年社会生活基本調査 生活時間", title: "男女，年齢階級別通勤・通学時間", main: ["13", "教育・文化・スポーツ・生活"], sub: ["02", "文化・スポーツ・生活"], cycle: "-", surveyDate: "2021", updated: "2022-08-31", cat01: ["男女", ["総数", "男", "女"]], unit: "分" },
  { id: "0003191203", stat: ["00600370", "交通事故統計"], org: ["00600", "国土交通省"], statisticsName: "交通事故統計 都道府県別", title: "交通事故件数及び死傷者数", main: ["10", "運輸・観光"], sub: ["01", "運輸"], cycle: "年次", surveyDate: "2023", updated: "2024-03-01", cat01: ["区分", ["件数", "死者数", "負傷者数"]], unit: "件" }
]

/** All tables the fake knows, by statsDataId, in the order e-Stat would list them. */
export const makeCatalog = (extra: ReadonlyArray<FakeTable> = []): ReadonlyMap<string, FakeTable> =>
  new Map([census(), cpi(), ...searchSpecs.map(fromSpec), ...extra].map((t) => [t.info.id, t]))
