import { createServer } from "node:http"
import { type CryptoKey, exportJWK, exportSPKI, generateKeyPair, type JWK, type JWTPayload, SignJWT } from "jose"

/**
 * An OAuth authorization server as far as a resource server sees one: metadata and a JWKS served
 * on 127.0.0.1, keys generated here, tokens signed here.
 */

export interface SigningKey {
  readonly kid: string
  readonly privateKey: CryptoKey
  readonly publicKey: CryptoKey
  readonly publicJwk: JWK
}

export const makeKey = async (kid: string): Promise<SigningKey> => {
  const { privateKey, publicKey } = await generateKeyPair("RS256", { extractable: true })
  return { kid, privateKey, publicKey, publicJwk: { ...(await exportJWK(publicKey)), kid, alg: "RS256", use: "sig" } }
}

const base64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url")

export interface TokenRequest {
  readonly grantType: string | null
  readonly scope: string | null
  readonly resource: string | null
  readonly clientId: string
}

export interface LocalIssuer {
  readonly issuer: string
  /** The key tokens are signed with unless told otherwise (the first published). */
  readonly key: SigningKey
  readonly sign: (claims: JWTPayload, key?: SigningKey) => Promise<string>
  /** `alg: none`: no signature at all. */
  readonly unsigned: (claims: JWTPayload) => string
  /** HS256 keyed with the published public key's PEM (the algorithm-confusion attack). */
  readonly signedWithPublicKeyAsSecret: (claims: JWTPayload) => Promise<string>
  /** Publishes one more key, as an issuer does when it rotates. */
  readonly publish: (key: SigningKey) => void
  readonly jwksFetches: () => number
  /** What clients asked the token endpoint for, in order. */
  readonly tokenRequests: () => ReadonlyArray<TokenRequest>
  readonly close: () => Promise<void>
}

/** `metadataAt`: which well-known document the issuer serves (Cognito serves only OpenID Connect's). */
export const startIssuer = async (metadataAt: "oauth-authorization-server" | "openid-configuration" = "oauth-authorization-server"): Promise<LocalIssuer> => {
  const key = await makeKey("key-1")
  const published: Array<SigningKey> = [key]
  let fetches = 0
  let issuer = ""
  const tokenRequests: Array<TokenRequest> = []
  const sign = (claims: JWTPayload, signer: SigningKey = key) =>
    new SignJWT(claims).setProtectedHeader({ alg: "RS256", kid: signer.kid, typ: "at+jwt" }).sign(signer.privateKey)
  const server = createServer((request, response) => {
    response.setHeader("content-type", "application/json")
    if (request.url === `/.well-known/${metadataAt}`) {
      response.end(JSON.stringify({
        issuer,
        jwks_uri: `${issuer}/jwks`,
        authorization_endpoint: `${issuer}/authorize`,
        token_endpoint: `${issuer}/token`,
        response_types_supported: ["code"],
        grant_types_supported: ["authorization_code", "client_credentials"],
        token_endpoint_auth_methods_supported: ["client_secret_basic"],
        code_challenge_methods_supported: ["S256"]
      }))
    } else if (request.url === "/token" && request.method === "POST") {
      // client_credentials (RFC 6749 §4.4) with client_secret_basic: the client is the subject, the
      // RFC 8707 resource the audience, the scopes asked for granted.
      let body = ""
      request.on("data", (chunk: Buffer) => (body += chunk.toString("utf8")))
      request.on("end", () => {
        const form = new URLSearchParams(body)
        const basic = /^Basic (.+)$/.exec(request.headers.authorization ?? "")?.[1] ?? ""
        const clientId = decodeURIComponent(Buffer.from(basic, "base64").toString("utf8").split(":")[0] ?? "")
        tokenRequests.push({ grantType: form.get("grant_type"), scope: form.get("scope"), resource: form.get("resource"), clientId })
        const now = Math.floor(Date.now() / 1000)
        const resource = form.get("resource")
        void sign({ iss: issuer, ...(resource === null ? {} : { aud: resource }), sub: clientId, scope: form.get("scope") ?? "", iat: now, exp: now + 300 })
          .then((token) => response.end(JSON.stringify({ access_token: token, token_type: "Bearer", expires_in: 300 })))
      })
    } else if (request.url === "/jwks") {
      fetches++
      response.end(JSON.stringify({ keys: published.map((k) => k.publicJwk) }))
    } else {
      response.statusCode = 404
      response.end("{}")
    }
  })
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  const address = server.address()
  if (address === null || typeof address === "string") throw new Error("expected a TCP address")
  issuer = `http://127.0.0.1:${address.port}`
  return {
    issuer,
    key,
    sign,
    unsigned: (claims) => `${base64url({ alg: "none", typ: "JWT" })}.${base64url(claims)}.`,
    signedWithPublicKeyAsSecret: async (claims) =>
      new SignJWT(claims).setProtectedHeader({ alg: "HS256", kid: key.kid }).sign(new TextEncoder().encode(await exportSPKI(key.publicKey))),
    publish: (next) => void published.push(next),
    jwksFetches: () => fetches,
    tokenRequests: () => tokenRequests,
    close: () => new Promise<void>((resolve) => server.close(() => resolve()))
  }
}
