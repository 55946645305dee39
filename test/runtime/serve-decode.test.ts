import { describe, expect, it } from "vitest";
import { PNG } from "pngjs";
import { decodeJson, decodePng, RequestError } from "../../src/runtime/serve/decode.js";

function png(width: number, height: number, pixels: [number, number, number, number][]): Buffer {
  const p = new PNG({ width, height });
  pixels.forEach((px, i) => p.data.set(px, 4 * i));
  return PNG.sync.write(p);
}
const identity = { mean: [0], std: [1] };

describe("PNG and JSON decoding for serve", () => {
  it("converts to grayscale luma, composites transparency over black, then normalises", () => {
    const body = png(2, 1, [[255, 0, 0, 255], [0, 255, 0, 128]]);
    const { x, n } = decodePng(body, { channels: 1, height: 1, width: 2 }, identity);
    expect(n).toBe(1);
    expect(x[0]).toBeCloseTo(0.299, 6);
    expect(x[1]).toBeCloseTo((0.587 * 128) / 255, 6);
    const norm = decodePng(body, { channels: 1, height: 1, width: 2 }, { mean: [0.5], std: [0.25] }).x;
    expect(norm[0]).toBeCloseTo((0.299 - 0.5) / 0.25, 5);
  });

  it("keeps RGB planes for 3-channel models and resizes with half-pixel bilinear interpolation", () => {
    // 4x4 -> 2x2 at scale 2 samples between source pixels: each output is a 2x2 block average.
    const v = [0, 40, 80, 120, 160, 200, 240, 20, 60, 100, 140, 180, 220, 10, 30, 50];
    const body = png(4, 4, v.map((g) => [g, 255 - g, 7, 255] as [number, number, number, number]));
    const { x } = decodePng(body, { channels: 3, height: 2, width: 2 }, { mean: [0], std: [1 / 255] });
    const block = (r: number, c: number, f: (g: number) => number) =>
      (f(v[(2 * r) * 4 + 2 * c]!) + f(v[(2 * r) * 4 + 2 * c + 1]!) + f(v[(2 * r + 1) * 4 + 2 * c]!) + f(v[(2 * r + 1) * 4 + 2 * c + 1]!)) / 4;
    for (let r = 0; r < 2; r++) {
      for (let c = 0; c < 2; c++) {
        expect(x[r * 2 + c]).toBeCloseTo(block(r, c, (g) => g), 3);
        expect(x[4 + r * 2 + c]).toBeCloseTo(block(r, c, (g) => 255 - g), 3);
        expect(x[8 + r * 2 + c]).toBeCloseTo(7, 3);
      }
    }
  });

  it("accepts [H, W] for one-channel models and rejects non-finite or ragged arrays", () => {
    const shape = { channels: 1, height: 2, width: 2 };
    expect(Array.from(decodeJson(Buffer.from("[[1,2],[3,4]]"), shape, undefined, 8).x)).toEqual([1, 2, 3, 4]);
    expect(() => decodeJson(Buffer.from("[[1,2],[3]]"), shape, undefined, 8)).toThrow(RequestError);
    expect(() => decodeJson(Buffer.from('[[1,2],[3,"4"]]'), shape, undefined, 8)).toThrow(/entry \[1\]\[1\] is "4"/);
    expect(() => decodeJson(Buffer.from("[[1,2],[3,1e999]]"), shape, undefined, 8)).toThrow(/not a finite number/);
    expect(() => decodeJson(Buffer.from('{"pixels": [[1,2],[3,4]]}'), shape, undefined, 8)).toThrow(/no input normalisation/);
  });
});
