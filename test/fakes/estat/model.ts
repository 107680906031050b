// Moved to src/testing/estat (shared by this fake server and the in-memory EStat layer).
export * from "../../../src/testing/estat/model.js"
