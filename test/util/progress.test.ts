import { describe, expect, it } from "vitest";
import { Progress } from "../../src/util/progress.js";
import { memoryIO } from "../../src/util/io.js";

const lines = (io: { err: string[] }) => io.err.join("").split("\n").filter(Boolean);

describe("Progress", () => {
  it("prints the final line once on a non-TTY, whether or not the last update showed it", () => {
    const io = memoryIO();
    const p = new Progress(io, { label: "train", total: 3, plainEveryMs: 60_000 });
    p.update(1, { loss: 2.5 });
    p.update(2, { loss: 2.25 });
    p.update(3, { loss: 2 }); // the last unit is always printed
    p.finish({ loss: 2 });
    const out = lines(io);
    expect(out.filter((l) => l.startsWith("train 3/3"))).toHaveLength(1);
    expect(out).toHaveLength(2); // 1/3 (first line) and 3/3; 2/3 was throttled
    expect(out[1]).toMatch(/^train 3\/3  loss 2  .*ETA 0s$/);

    // Stopped early (throttled, never reached total): finish prints where it stopped, once.
    const io2 = memoryIO();
    const q = new Progress(io2, { label: "eval", total: 10, plainEveryMs: 60_000 });
    q.update(4);
    q.update(7);
    q.finish();
    expect(lines(io2).map((l) => l.split("  ")[0])).toEqual(["eval 4/10", "eval 7/10"]);
  });

  it("does not print an absurd rate right after the start", () => {
    const io = memoryIO();
    const p = new Progress(io, { label: "export", total: 6 });
    p.update(1);
    expect(lines(io)[0]).toMatch(/^export 1\/6  \?\/s  ETA \?$/);
  });

  it("redraws one bar on a TTY and ends it with a newline; --quiet prints nothing", () => {
    const tty = { ...memoryIO(), isTTY: true };
    const p = new Progress(tty, { label: "train", total: 2 });
    p.update(1);
    p.update(2);
    p.finish();
    const text = tty.err.join("");
    expect(text.split("\r\x1b[2K").filter(Boolean)).toHaveLength(3);
    expect(text.endsWith("\n")).toBe(true);
    const quiet = memoryIO();
    const q = new Progress(quiet, { label: "x", total: 1, quiet: true });
    q.update(1);
    q.finish();
    expect(quiet.err).toEqual([]);
  });
});
