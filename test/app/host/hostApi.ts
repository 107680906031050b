/** What the test host page (host.ts, bundled for the browser) offers the test, on its window. */

export interface ToolCall {
  readonly name: string
  readonly arguments?: Record<string, unknown>
}

export interface HostLog {
  /** The tools/call requests the app asked the host for. */
  readonly calls: Array<ToolCall>
  /** The app's ui/notifications/size-changed. */
  readonly sizes: Array<{ readonly width?: number | undefined; readonly height?: number | undefined }>
  initialized: boolean
}

export interface StartOptions {
  readonly html: string
  readonly input: Record<string, unknown>
  /** A CallToolResult as the server sent it. */
  readonly result: Record<string, unknown>
  /** The McpUiHostContext the app starts with (theme, containerDimensions, …). */
  readonly context: Record<string, unknown>
}

export interface HostApi {
  readonly hostLog: HostLog
  readonly startHost: (options: StartOptions) => Promise<void>
  readonly setHostContext: (context: Record<string, unknown>) => Promise<void>
  /** Hands the app another tool result, as a host does when the tool it belongs to runs again. */
  readonly sendToolResult: (result: Record<string, unknown>) => Promise<void>
  /** Bound by the test (Playwright's exposeFunction): sends a call to the server. */
  readonly hostCallTool: (call: ToolCall) => Promise<Record<string, unknown>>
}
