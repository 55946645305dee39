/** External-data locations are confined to the model's directory (issue 6 item 5). */
import { describe, expect, it } from "vitest";
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { confineLocation } from "../../src/model/model-io.js";
import { ModelFormatError } from "../../src/errors.js";

const root = mkdtempSync(join(tmpdir(), "bnnas-ext-"));
const dir = join(root, "models");
mkdirSync(join(dir, "weights"), { recursive: true });
writeFileSync(join(root, "secret.bin"), "outside");
writeFileSync(join(dir, "w.bin"), "inside");
writeFileSync(join(dir, "weights", "w.bin"), "inside");
symlinkSync(join(root, "secret.bin"), join(dir, "out-link.bin"));
symlinkSync(root, join(dir, "out-dir"));
symlinkSync("w.bin", join(dir, "in-link.bin"));
const model = join(dir, "m.onnx");

describe("confineLocation", () => {
  for (const [loc, say] of [
    ["../../etc/passwd", /escapes the model's directory/],
    ["/etc/passwd", /must be a relative path/],
    ["C:\\Windows\\win.ini", /must be a relative path/],
    ["weights/../../secret.bin", /escapes/],
    ["./../secret.bin", /escapes/],
    ["out-link.bin", /links outside/],
    ["out-dir/secret.bin", /links outside/],
    ["", /must be a relative path/],
    ["w.bin\0.txt", /must be a relative path/],
    [".", /escapes/],
    ["weights", /not a regular file/],
    ["missing.bin", /does not exist/],
  ] as const) {
    it(`refuses '${loc.replace("\0", "\\0")}'`, () => {
      expect(() => confineLocation(model, loc)).toThrow(ModelFormatError);
      expect(() => confineLocation(model, loc)).toThrow(say);
    });
  }
  it("accepts files inside, also through a symlink that stays inside", () => {
    expect(confineLocation(model, "w.bin")).toBe(join(dir, "w.bin"));
    expect(confineLocation(model, "weights/../w.bin")).toBe(join(dir, "w.bin"));
    expect(confineLocation(model, "weights/w.bin")).toBe(join(dir, "weights", "w.bin"));
    expect(confineLocation(model, "in-link.bin")).toBe(join(dir, "w.bin"));
  });
});
