import { CfnOutput, Duration, RemovalPolicy, Stack, Validations, aws_cognito as cognito } from "aws-cdk-lib"
import { Construct } from "constructs"

/**
 * How MCP clients sign in (MCP_AUTH_MODE):
 * - `token`: one shared bearer token in Secrets Manager (the default);
 * - `cognito`: a Cognito user pool made here, each user signing in with their own account;
 * - `issuer`: an authorization server you already run (Entra ID, Okta, Auth0, another pool).
 */
export type SignIn =
  | { readonly kind: "token" }
  | {
    readonly kind: "cognito"
    /** The managed login's address: `https://<prefix>.auth.<region>.amazoncognito.com` (unique in the Region). */
    readonly domainPrefix: string
    /** Where the authorization server may send clients back; default: claude.ai and Claude Desktop's custom connectors. */
    readonly callbackUrls?: ReadonlyArray<string>
  }
  | {
    readonly kind: "issuer"
    readonly issuer: string
    /** MCP_OAUTH_SCOPE_PREFIX: what the issuer writes before `estat:read` (default none). */
    readonly scopePrefix?: string
    /** MCP_OAUTH_CLIENT_IDS: clients whose tokens may lack `aud`. */
    readonly clientIds?: ReadonlyArray<string>
  }

/** The hosted clients' fixed callbacks (claude.ai / Claude Desktop custom connectors). */
export const defaultCallbackUrls = ["https://claude.ai/api/mcp/auth_callback", "https://claude.com/api/mcp/auth_callback"] as const

/** The scopes and what they allow (src/http/oauthResource.ts checks them). */
const scopes = {
  read: new cognito.ResourceServerScope({ scopeName: "estat:read", scopeDescription: "Search, fetch, download and analyze e-Stat data" }),
  write: new cognito.ResourceServerScope({ scopeName: "estat:write", scopeDescription: "Load tables into the lake and write files" })
}

/**
 * A Cognito user pool as the server's authorization server: users are added by an admin (no self
 * sign-up), sign in with email, password and a one-time code, and get access tokens for the resource
 * server named by the MCP endpoint, with `estat:read`/`estat:write` as `<endpoint>/estat:read`.
 * The Essentials plan and the newer managed login give resource binding (RFC 8707): a client that
 * sends `resource` gets `aud` set to the endpoint; tokens of the app client below are accepted
 * without it (MCP_OAUTH_CLIENT_IDS), since Cognito leaves `aud` out otherwise.
 */
export class CognitoSignIn extends Construct {
  /** The server's settings for this pool (MCP_AUTH_MODE=oauth …). */
  readonly environment: Readonly<Record<string, string>>

  constructor(scope: Construct, id: string, props: { readonly endpoint: string; readonly domainPrefix: string; readonly callbackUrls: ReadonlyArray<string> }) {
    super(scope, id)
    const pool = new cognito.UserPool(this, "Users", {
      featurePlan: cognito.FeaturePlan.ESSENTIALS,
      selfSignUpEnabled: false,
      signInAliases: { email: true },
      autoVerify: { email: true },
      accountRecovery: cognito.AccountRecovery.EMAIL_ONLY,
      mfa: cognito.Mfa.REQUIRED,
      mfaSecondFactor: { otp: true, sms: false },
      passwordPolicy: {
        minLength: 12,
        requireLowercase: true,
        requireUppercase: true,
        requireDigits: true,
        requireSymbols: true,
        tempPasswordValidity: Duration.days(3)
      },
      deletionProtection: true,
      removalPolicy: RemovalPolicy.RETAIN
    })
    const plusOnly =
      "Threat protection needs the Plus plan, priced per user; sign-in is already admin-invited users with a strong password and a required one-time code. Set featurePlan PLUS to add it."
    Validations.of(pool).acknowledge({ id: "AwsSolutions-COG3", reason: plusOnly }, { id: "AwsSolutions-COG8", reason: plusOnly })
    const domain = pool.addDomain("Login", {
      cognitoDomain: { domainPrefix: props.domainPrefix },
      managedLoginVersion: cognito.ManagedLoginVersion.NEWER_MANAGED_LOGIN
    })
    const resourceServer = pool.addResourceServer("Mcp", {
      identifier: props.endpoint,
      userPoolResourceServerName: "estat-mcp",
      scopes: [scopes.read, scopes.write]
    })
    // A public client (no secret: desktop and hosted MCP clients cannot keep one) with the code flow; Cognito checks PKCE when sent.
    const client = pool.addClient("McpClients", {
      generateSecret: false,
      authFlows: {},
      preventUserExistenceErrors: true,
      enableTokenRevocation: true,
      accessTokenValidity: Duration.hours(1),
      idTokenValidity: Duration.hours(1),
      refreshTokenValidity: Duration.days(30),
      supportedIdentityProviders: [cognito.UserPoolClientIdentityProvider.COGNITO],
      oAuth: {
        flows: { authorizationCodeGrant: true },
        scopes: [cognito.OAuthScope.resourceServer(resourceServer, scopes.read), cognito.OAuthScope.resourceServer(resourceServer, scopes.write)],
        callbackUrls: [...props.callbackUrls]
      }
    })
    // The newer managed login shows nothing until the client has a style: Cognito's own.
    new cognito.CfnManagedLoginBranding(this, "LoginStyle", {
      userPoolId: pool.userPoolId,
      clientId: client.userPoolClientId,
      useCognitoProvidedValues: true
    })

    this.environment = {
      MCP_AUTH_MODE: "oauth",
      // The `iss` of the pool's tokens, as Cognito documents it (the ProviderURL attribute's form is not).
      MCP_OAUTH_ISSUER: `https://cognito-idp.${Stack.of(this).region}.${Stack.of(this).urlSuffix}/${pool.userPoolId}`,
      MCP_OAUTH_AUDIENCE: props.endpoint,
      MCP_OAUTH_SCOPE_PREFIX: `${props.endpoint}/`,
      MCP_OAUTH_CLIENT_IDS: client.userPoolClientId
    }
    new CfnOutput(scope, "UserPoolId", { value: pool.userPoolId, description: "aws cognito-idp admin-create-user --user-pool-id <this> --username <email>" })
    new CfnOutput(scope, "OAuthClientId", { value: client.userPoolClientId, description: "The OAuth client id MCP clients sign in with (no secret)" })
    new CfnOutput(scope, "SignInDomain", { value: domain.baseUrl(), description: "The authorization server's managed login" })
  }
}

/** The settings of an authorization server run elsewhere. */
export const issuerEnvironment = (signIn: Extract<SignIn, { kind: "issuer" }>, endpoint: string): Readonly<Record<string, string>> => ({
  MCP_AUTH_MODE: "oauth",
  MCP_OAUTH_ISSUER: signIn.issuer,
  MCP_OAUTH_AUDIENCE: endpoint,
  ...(signIn.scopePrefix === undefined ? {} : { MCP_OAUTH_SCOPE_PREFIX: signIn.scopePrefix }),
  ...(signIn.clientIds === undefined || signIn.clientIds.length === 0 ? {} : { MCP_OAUTH_CLIENT_IDS: signIn.clientIds.join(",") })
})
