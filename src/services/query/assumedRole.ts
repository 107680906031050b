import { AssumeRoleCommand, type STSClient } from "@aws-sdk/client-sts"

/**
 * Credentials of the analysis role (ATHENA_QUERY_ROLE_ARN), for the Athena client that runs
 * caller SQL: Athena reads Glue and S3 with the caller's identity, so that role's policy — read
 * the tables' data, write query results, nothing else — is the boundary on the aws backend. The
 * SDK calls this again shortly before the credentials expire.
 */
export const assumedRoleCredentials = (sts: STSClient, roleArn: string) => async () => {
  const answer = await sts.send(new AssumeRoleCommand({ RoleArn: roleArn, RoleSessionName: "estat-mcp-analysis", DurationSeconds: 3600 }))
  const credentials = answer.Credentials
  if (credentials?.AccessKeyId === undefined || credentials.SecretAccessKey === undefined) {
    throw new Error(`STS AssumeRole of ${roleArn} returned no credentials`)
  }
  return {
    accessKeyId: credentials.AccessKeyId,
    secretAccessKey: credentials.SecretAccessKey,
    ...(credentials.SessionToken === undefined ? {} : { sessionToken: credentials.SessionToken }),
    ...(credentials.Expiration === undefined ? {} : { expiration: credentials.Expiration })
  }
}
