import { describe, expect, it } from "vitest";
import { flagName, handleError } from "../../src/cli/index.js";
import { InputFileError, NumericError, OptionError } from "../../src/errors.js";
import { memoryIO } from "../../src/util/io.js";

describe("library errors name options by key; the CLI names them by flag", () => {
  it("maps option keys to flags", () => {
    expect(flagName("batch")).toBe("--batch");
    expect(flagName("weightDecayBn")).toBe("--weight-decay-bn");
  });
  it("an OptionError reads with the key in the library and with the flag on the command line", () => {
    const e = new OptionError("checkpointDir", (o) => `${o} /x: cannot create it`);
    expect(e.message).toBe("checkpointDir /x: cannot create it");
    expect(e.option).toBe("checkpointDir");
    const io = memoryIO();
    expect(handleError(e, io, false)).toBe(2);
    expect(io.err.join("")).toBe("bnnas: error: --checkpoint-dir /x: cannot create it\n");
  });
  it("any error whose message names options is re-rendered, others are printed as they are", () => {
    const io = memoryIO();
    handleError(new NumericError((o) => `diverged; try a lower ${o("lr")}`), io, false);
    handleError(new InputFileError("d", (o) => `no such directory (${o("data")} wants IDX files)`), io, false);
    handleError(new InputFileError("f", "truncated"), io, false);
    expect(io.err.join("")).toBe("bnnas: error: diverged; try a lower --lr\nbnnas: error: d: no such directory (--data wants IDX files)\nbnnas: error: f: truncated\n");
    expect(new NumericError((o) => `try a lower ${o("lr")}`).message).toBe("try a lower lr");
  });
});
