import { setFlagsFromString } from "node:v8"
import { runInNewContext } from "node:vm"

/** A full garbage collection, without starting Node with --expose-gc (memory tests). */
export const collectGarbage = (): void => {
  setFlagsFromString("--expose-gc")
  ;(runInNewContext("gc") as () => void)()
}
