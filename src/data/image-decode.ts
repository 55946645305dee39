/**
 * Decoding and preprocessing with sharp (libvips, prebuilt in its npm packages): an image file,
 * or raw pixels of another size, to the model's C x H x W bytes the way a torchvision user
 * prepares them: scaled so the shorter side covers the target, centre-cropped (Resize +
 * CenterCrop), bilinear; alpha dropped; grayscale <-> RGB as PIL converts ("L" is
 * R*299/1000 + G*587/1000 + B*114/1000, with PIL's integer rounding; "RGB" from "L" repeats it).
 * EXIF orientation is not applied, as PIL's loader does not apply it either.
 */
import sharp, { type Sharp } from "sharp";

export interface ImageShape {
  channels: number;
  height: number;
  width: number;
}

/** What one decode gives: C x H x W bytes at the target shape, and the source's colour channels. */
export interface Decoded {
  pixels: Uint8Array;
  /** 1 for grayscale sources, 3 for colour: mixed sets are reported. */
  sourceChannels: 1 | 3;
  /** The source's size before resizing. */
  sourceSize: [number, number];
}

let configured = false;
/** sharp's operation cache only helps repeated work on the same files: decoding a set is one pass. */
function configure(): void {
  if (configured) return;
  sharp.cache(false);
  configured = true;
}

/** Interleaved H x W x S bytes (S = 1 or 3) to planar C x H x W at `channels`, converting as PIL does. */
export function toPlanar(hwc: Uint8Array, s: number, height: number, width: number, channels: number, out = new Uint8Array(channels * height * width)): Uint8Array {
  const plane = height * width;
  if (s === 1) {
    for (let c = 0; c < channels; c++) out.set(hwc.subarray(0, plane), c * plane);
    return out;
  }
  if (channels === 3) {
    for (let p = 0; p < plane; p++) {
      out[p] = hwc[3 * p]!;
      out[plane + p] = hwc[3 * p + 1]!;
      out[2 * plane + p] = hwc[3 * p + 2]!;
    }
    return out;
  }
  // PIL's ImagingConvert rgb2l: L = (R*19595 + G*38470 + B*7471 + 0x8000) >> 16.
  for (let p = 0; p < plane; p++) out[p] = (hwc[3 * p]! * 19595 + hwc[3 * p + 1]! * 38470 + hwc[3 * p + 2]! * 7471 + 0x8000) >>> 16;
  return out;
}

/** Runs a sharp pipeline to the target size and returns planar bytes at the target channels. */
async function finish(img: Sharp, target: ImageShape, sourceSize: [number, number], gray: boolean): Promise<Decoded> {
  const resized = sourceSize[0] === target.height && sourceSize[1] === target.width
    ? img
    : img.resize(target.width, target.height, { fit: "cover", position: "centre", kernel: "linear" });
  // sharp writes raw output in sRGB unless told otherwise: a grayscale source stays one band
  // (converted below as PIL would), anything else (CMYK included) becomes sRGB.
  const { data, info } = await resized.toColourspace(gray ? "b-w" : "srgb").removeAlpha().raw({ depth: "uchar" }).toBuffer({ resolveWithObject: true });
  if (info.height !== target.height || info.width !== target.width) throw new Error(`decoded to ${info.width}x${info.height}, not ${target.width}x${target.height}`);
  const s = info.channels as 1 | 3;
  return { pixels: toPlanar(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), s, target.height, target.width, target.channels), sourceChannels: s, sourceSize };
}

/** Decodes an image file (PNG, JPEG, WebP, TIFF) to the target shape; throws on unreadable or truncated files. */
export async function decodeFile(file: string, target: ImageShape): Promise<Decoded> {
  configure();
  // failOn "warning" (sharp's default, spelled out): a truncated JPEG or PNG is an error, not a grey bottom half.
  const img = sharp(file, { failOn: "warning" });
  const meta = await img.metadata();
  if (!meta.width || !meta.height) throw new Error("has no image size");
  return finish(img, target, [meta.height, meta.width], isGray(meta));
}

/** The size of an image file without decoding its pixels. */
export async function imageSize(file: string): Promise<{ channels: 1 | 3; height: number; width: number }> {
  const meta = await sharp(file, { failOn: "warning" }).metadata();
  if (!meta.width || !meta.height) throw new Error("has no image size");
  return { channels: isGray(meta) ? 1 : 3, height: meta.height, width: meta.width };
}

/** One colour band (besides alpha): grayscale. */
function isGray(meta: { channels?: number; hasAlpha?: boolean }): boolean {
  return (meta.channels ?? 3) - (meta.hasAlpha ? 1 : 0) === 1;
}

/** Resizes planar C x H x W bytes (C = 1 or 3) to the target shape, the same way files are. */
export async function resizePlanar(chw: Uint8Array, from: ImageShape, target: ImageShape): Promise<Uint8Array> {
  configure();
  const { channels: c, height: h, width: w } = from;
  const plane = h * w;
  const hwc = new Uint8Array(c * plane);
  for (let p = 0; p < plane; p++) for (let k = 0; k < c; k++) hwc[p * c + k] = chw[k * plane + p]!;
  const img = sharp(hwc, { raw: { width: w, height: h, channels: c as 1 | 3 } });
  return (await finish(img, target, [h, w], c === 1)).pixels;
}
