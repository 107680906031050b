/**
 * Public surface for embedding estat-mcp in another Effect service: the config, the services'
 * layers, the tool registry, the protocol core and the HTTP app (mount `router` or serve `httpApp`).
 */
export { AppConfig, type AppSettings, appSettingsConfig, configFromEnv, configLayer, defaultSettings } from "./config.js"
export * as EStatErrors from "./services/estat/errors.js"
export { EStat } from "./services/estat/EStat.js"
export * as Tool from "./mcp/tool.js"
export { McpServer, layer as mcpServerLayer, make as makeMcpServer } from "./mcp/server.js"
export { SessionStore, SessionStoreLive } from "./mcp/sessions.js"
export { serveStdio } from "./mcp/stdio.js"
export { tools, type ToolRequirements } from "./tools/registry.js"
export { httpApp, router } from "./http/app.js"
export { RequestBodies } from "./http/requestBody.js"
export { AccessTokens } from "./http/oauthTokens.js"
export { httpServerLayer } from "./server.js"
export { mcpLayer, mcpLayerFor, servicesLayer } from "./layers.js"
export { loggingLayer } from "./logging.js"
