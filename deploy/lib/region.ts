/** Where the stack goes when nothing says otherwise: Tokyo, next to e-Stat. */
export const defaultRegion = "ap-northeast-1"

/**
 * The stack's region: `-c region=…`, else `ESTAT_MCP_REGION`, else ap-northeast-1. The CDK CLI's
 * CDK_DEFAULT_REGION (the AWS profile's region) is not read: the CLI always sets it, so a default
 * after it would never apply, and a profile set up for other work would move the stack silently.
 */
export const deployRegion = (contextRegion: string | undefined, env: Readonly<Record<string, string | undefined>>): string =>
  nonEmpty(contextRegion) ?? nonEmpty(env["ESTAT_MCP_REGION"]) ?? defaultRegion

const nonEmpty = (value: string | undefined) => (value === undefined || value.trim() === "" ? undefined : value.trim())
