/**
 * A minimal MCP Apps host for the browser test, bundled for Chromium: the app's HTML in a
 * sandboxed iframe (scripts only, opaque origin), ext-apps' AppBridge on this side of postMessage.
 * Tool calls the app asks for go to the Node side (`hostCallTool`, a Playwright binding), which
 * sends them to the real server; what the host saw is kept in `hostLog` for the test.
 * Type-checked with the app (app/tsconfig.json: DOM), not with the Node code.
 */
import { AppBridge, PostMessageTransport } from "@modelcontextprotocol/ext-apps/app-bridge"
import type { HostApi, HostLog } from "./hostApi.js"

type CallToolResult = Parameters<AppBridge["sendToolResult"]>[0]
type HostContext = Parameters<AppBridge["setHostContext"]>[0]

const page = window as unknown as { -readonly [K in keyof HostApi]: HostApi[K] }
const hostLog: HostLog = { calls: [], sizes: [], initialized: false }
let bridge: AppBridge | undefined

page.hostLog = hostLog

page.startHost = async ({ context, html, input, result }) => {
  const frame = document.createElement("iframe")
  frame.setAttribute("sandbox", "allow-scripts")
  frame.id = "app"
  frame.style.cssText = "width: 820px; height: 640px; border: 1px solid #ccc"
  document.body.append(frame)
  const host = new AppBridge(null, { name: "estat-mcp test host", version: "1.0.0" }, { serverTools: {}, logging: {} }, { hostContext: context as HostContext })
  bridge = host
  host.oncalltool = async (params) => {
    const call = { name: params.name, ...(params.arguments === undefined ? {} : { arguments: params.arguments }) }
    hostLog.calls.push(call)
    return (await page.hostCallTool(call)) as CallToolResult
  }
  // As hosts do: the frame takes the height the app reports (autoResize).
  host.onsizechange = (size) => {
    hostLog.sizes.push(size)
    if (size.height !== undefined) frame.style.height = `${size.height}px`
  }
  const ready = new Promise<void>((resolve) => {
    host.oninitialized = () => {
      hostLog.initialized = true
      resolve()
    }
  })
  await host.connect(new PostMessageTransport(frame.contentWindow!, frame.contentWindow!))
  frame.srcdoc = html
  await ready
  await host.sendToolInput({ arguments: input })
  await host.sendToolResult(result as CallToolResult)
}

page.sendToolResult = async (result) => {
  await bridge?.sendToolResult(result as CallToolResult)
}

page.setHostContext = async (context) => {
  bridge?.setHostContext(context as HostContext)
}
