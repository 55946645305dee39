import { describe, expect, it } from "vitest";
import { LazyProgress, Progress } from "../../src/util/progress.js";
import { memoryIO } from "../../src/util/io.js";

const lines = (io: { err: string[] }) => io.err.join("").split("\n").filter(Boolean);

/** A clock the test moves by hand, so throttling and rates do not depend on how fast the test runs. */
function fakeClock(startMs = 1_000_000): { now: () => number; advance: (ms: number) => void } {
  let t = startMs;
  return { now: () => t, advance: (ms) => void (t += ms) };
}

describe("Progress", () => {
  it("prints the final line once on a non-TTY, whether or not the last update showed it", () => {
    const clock = fakeClock();
    const io = memoryIO();
    const p = new Progress(io, { label: "train", total: 3, plainEveryMs: 2000, now: clock.now });
    clock.advance(1000);
    p.update(1, { loss: 2.5 });
    clock.advance(1000); // 1 s after the last line: throttled
    p.update(2, { loss: 2.25 });
    clock.advance(1000);
    p.update(3, { loss: 2 }); // the last unit is always printed
    p.finish({ loss: 2 });
    const out = lines(io);
    expect(out.filter((l) => l.startsWith("train 3/3"))).toHaveLength(1);
    expect(out).toHaveLength(2); // 1/3 (first line) and 3/3; 2/3 was throttled
    expect(out[0]).toBe("train 1/3  loss 2.5000  1.0/s  ETA 2s");
    expect(out[1]).toBe("train 3/3  loss 2  1.0/s  ETA 0s");

    // Stopped early (throttled, never reached total): finish prints where it stopped, once.
    const io2 = memoryIO();
    const q = new Progress(io2, { label: "eval", total: 10, plainEveryMs: 2000, now: clock.now });
    clock.advance(1000);
    q.update(4);
    clock.advance(1000);
    q.update(7);
    q.finish();
    expect(lines(io2).map((l) => l.split("  ")[0])).toEqual(["eval 4/10", "eval 7/10"]);
  });

  it("prints a plain line again once plainEveryMs has passed", () => {
    const clock = fakeClock();
    const io = memoryIO();
    const p = new Progress(io, { label: "eval", total: 10, plainEveryMs: 2000, now: clock.now });
    p.update(1);
    clock.advance(1999);
    p.update(2); // throttled
    clock.advance(1);
    p.update(3); // 2000 ms since the first line
    expect(lines(io).map((l) => l.split("  ")[0])).toEqual(["eval 1/10", "eval 3/10"]);
  });

  it("does not print an absurd rate right after the start", () => {
    const clock = fakeClock();
    const io = memoryIO();
    const p = new Progress(io, { label: "export", total: 6, now: clock.now });
    clock.advance(49); // under 50 ms: a rate would be noise
    p.update(1);
    expect(lines(io)[0]).toBe("export 1/6  ?/s  ETA ?");
    const io2 = memoryIO();
    const q = new Progress(io2, { label: "export", total: 6, now: clock.now });
    clock.advance(50); // from 50 ms on, the rate is shown
    q.update(1);
    expect(lines(io2)[0]).toBe("export 1/6  20.0/s  ETA 0s");
  });

  it("redraws one bar on a TTY and ends it with a newline; --quiet prints nothing", () => {
    const clock = fakeClock();
    const tty = { ...memoryIO(), isTTY: true };
    const p = new Progress(tty, { label: "train", total: 2, now: clock.now });
    clock.advance(1000);
    p.update(1);
    clock.advance(1000);
    p.update(2);
    p.finish();
    const text = tty.err.join("");
    expect(text.split("\r\x1b[2K").filter(Boolean)).toEqual([
      "train [############------------] 1/2  1.0/s  ETA 1s",
      "train [########################] 2/2  1.0/s  ETA 0s",
      "train [########################] 2/2  1.0/s  ETA 0s\n",
    ]);
    const quiet = memoryIO();
    const q = new Progress(quiet, { label: "x", total: 1, quiet: true, now: clock.now });
    q.update(1);
    q.finish();
    expect(quiet.err).toEqual([]);
  });
});

describe("LazyProgress", () => {
  it("starts on the first report with its total, and shows the final state once however often finish is called", () => {
    const clock = fakeClock();
    const io = memoryIO();
    const p = new LazyProgress(io, "eval", false, clock.now);
    p.finish(); // nothing reported yet: nothing to show
    expect(io.err).toEqual([]);
    clock.advance(1000);
    p.update(128, 1000, { acc: 0.5 });
    clock.advance(500);
    p.update(256, 1000, { acc: 0.75 }); // throttled
    p.finish();
    p.finish();
    // The clock starts at the first report (no rate yet); the throttled second update shows at finish.
    expect(lines(io)).toEqual(["eval 128/1000  acc 0.5000  ?/s  ETA ?", "eval 256/1000  acc 0.7500  512.0/s  ETA 1s"]);
  });
  it("is silent when quiet", () => {
    const io = memoryIO();
    const p = new LazyProgress(io, "train", true);
    p.update(1, 2);
    p.finish();
    expect(io.err).toEqual([]);
  });
});
