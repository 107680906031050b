import { Schema } from "effect"

/** ESTAT_APP_ID is not configured: the server runs, e-Stat calls cannot. */
export class EStatNotConfigured extends Schema.TaggedError<EStatNotConfigured>()("EStatNotConfigured", {
  endpoint: Schema.String
}) {
  override get message() {
    return "ESTAT_APP_ID is not set, so e-Stat cannot be called. Register for a free application ID at " +
      "https://www.e-stat.go.jp/api/ and set ESTAT_APP_ID in the server's environment, then restart it."
  }
}

/**
 * e-Stat answered STATUS 1 ("normal end, no matching data") where an answer needs data: the
 * metadata of a table it does not hold (ESTAT-API.md §13).
 */
export class EStatNoData extends Schema.TaggedError<EStatNoData>()("EStatNoData", {
  endpoint: Schema.String,
  statsDataId: Schema.String,
  errorMessage: Schema.String
}) {
  override get message() {
    return `e-Stat has no metadata for dataset ${this.statsDataId} (${this.endpoint}: STATUS 1, "${this.errorMessage}"): ` +
      "no table matches this id. Check the id; search_estat_data finds valid ones."
  }
}

/**
 * e-Stat refused a call naming a dataset with STATUS 100 although the application ID works
 * (another call with it succeeded): the dataset id is what it does not know.
 */
export class EStatUnknownDataset extends Schema.TaggedError<EStatUnknownDataset>()("EStatUnknownDataset", {
  endpoint: Schema.String,
  statsDataId: Schema.String,
  status: Schema.Number,
  errorMessage: Schema.String
}) {
  override get message() {
    return `e-Stat does not know dataset ${this.statsDataId} (${this.endpoint}: STATUS ${this.status}, "${this.errorMessage}"). ` +
      "Check the id; search_estat_data finds valid ones."
  }
}

/** e-Stat answered with RESULT.STATUS ≥ 100. */
export class EStatApiError extends Schema.TaggedError<EStatApiError>()("EStatApiError", {
  status: Schema.Number,
  errorMessage: Schema.String,
  endpoint: Schema.String
}) {
  override get message() {
    // STATUS 100 reaches the user as this error only when it is the application ID (see EStatUnknownDataset).
    const hint = this.status === 100
      ? " Check that ESTAT_APP_ID is a valid e-Stat application ID."
      : this.status === 300
      ? " The table or dataset does not exist: check the id (search_estat_data finds valid ones)."
      : this.status === 105
      ? " Too many codes in one filter: e-Stat accepts at most 100."
      : this.status >= 200 && this.status < 300
      ? " e-Stat had an internal error; try again later."
      : ""
    return `e-Stat ${this.endpoint} failed with STATUS ${this.status}: ${this.errorMessage}${hint}`
  }
}

/** A response that is not an e-Stat body (a WAF page, a gateway error), or 429/5xx after retries. */
export class EStatHttpError extends Schema.TaggedError<EStatHttpError>()("EStatHttpError", {
  httpStatus: Schema.Number,
  endpoint: Schema.String,
  detail: Schema.String
}) {
  override get message() {
    const what = this.httpStatus === 429
      ? "e-Stat is rate limiting requests"
      : this.httpStatus >= 500
      ? "e-Stat is unavailable"
      : `e-Stat refused the request (HTTP ${this.httpStatus})`
    return `${what} on ${this.endpoint}: ${this.detail}. Try again in a few minutes.`
  }
}

export class EStatTimeout extends Schema.TaggedError<EStatTimeout>()("EStatTimeout", {
  endpoint: Schema.String,
  timeoutMs: Schema.Number
}) {
  override get message() {
    return `e-Stat did not answer ${this.endpoint} within ${this.timeoutMs / 1000} s (after retries). ` +
      "It can be slow for large requests; try again, narrow the request, or raise ESTAT_TIMEOUT."
  }
}

export class EStatUnavailable extends Schema.TaggedError<EStatUnavailable>()("EStatUnavailable", {
  endpoint: Schema.String,
  reason: Schema.String
}) {
  override get message() {
    return `Could not reach e-Stat for ${this.endpoint} (${this.reason}). Check the network and ESTAT_API_BASE_URL.`
  }
}

export class EStatDecodeError extends Schema.TaggedError<EStatDecodeError>()("EStatDecodeError", {
  endpoint: Schema.String,
  detail: Schema.String
}) {
  override get message() {
    return `e-Stat's answer to ${this.endpoint} could not be read (${this.detail}). It may have been cut off; try again.`
  }
}

/** An HTTP 200 body that ended early or is not JSON (a connection cut mid-body): worth another attempt. */
export class EStatIncompleteBody extends Schema.TaggedError<EStatIncompleteBody>()("EStatIncompleteBody", {
  endpoint: Schema.String
}) {
  override get message() {
    return `e-Stat's answer to ${this.endpoint} ended early or was not JSON on every attempt (cut off on the way). Try again in a few minutes.`
  }
}

/** A page of a paged fetch that still failed after its retries. */
export class EStatPageFailed extends Schema.TaggedError<EStatPageFailed>()("EStatPageFailed", {
  index: Schema.Int,
  startPosition: Schema.Int,
  limit: Schema.Int,
  reason: Schema.String
}) {
  override get message() {
    return `Page ${this.index} (rows ${this.startPosition}–${this.startPosition + this.limit - 1}) failed: ${this.reason}`
  }
}

export type EStatError =
  | EStatNotConfigured
  | EStatNoData
  | EStatUnknownDataset
  | EStatApiError
  | EStatHttpError
  | EStatTimeout
  | EStatUnavailable
  | EStatDecodeError
  | EStatIncompleteBody

/**
 * Failures worth another attempt: rate limits, server errors, timeouts, broken connections,
 * bodies cut short. A whole e-Stat answer with an error STATUS is final.
 */
export const isTransient = (error: EStatError): boolean =>
  error._tag === "EStatTimeout" ||
  error._tag === "EStatUnavailable" ||
  error._tag === "EStatIncompleteBody" ||
  (error._tag === "EStatHttpError" && (error.httpStatus === 429 || error.httpStatus >= 500))
