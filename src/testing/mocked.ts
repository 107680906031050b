import { Context } from "effect"

/** Present when the server runs on mocked layers (`--mock`): what each mocked service is, for `/ready` and the start-up log. */
export class MockedLayers extends Context.Tag("estat-mcp/MockedLayers")<MockedLayers, {
  readonly estat: string
  readonly storage: string
}>() {}
