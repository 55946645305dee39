/**
 * Image folders in torchvision's ImageFolder layout: `DIR/train/<class>/*.png|jpg|...` and
 * `DIR/val/<class>/...` or `DIR/test/<class>/...` (a DIR of class folders alone is a training
 * set without a test split). Class names are the folder names, sorted, so class i is the i-th
 * folder, as in torchvision. Files that are not images by their extension are ignored, as are
 * hidden files and folders. This module only lists; decoding is image-decode.ts.
 */
import { readdirSync, statSync, type Stats } from "node:fs";
import { join } from "node:path";
import { InputFileError } from "../errors.js";
import type { Split } from "./dataset.js";

/** Extensions decoded (torchvision's IMG_EXTENSIONS that sharp reads, case-insensitive). */
export const IMAGE_EXTENSIONS = [".png", ".jpg", ".jpeg", ".webp", ".tif", ".tiff"];

export interface ImageEntry {
  file: string;
  label: number;
  size: number;
  mtimeMs: number;
}

export interface FolderListing {
  /** The split's folder. */
  dir: string;
  classNames: string[];
  entries: ImageEntry[];
  /** Files skipped for not being images (by extension). */
  ignored: number;
}

function isImage(name: string): boolean {
  const lower = name.toLowerCase();
  return IMAGE_EXTENSIONS.some((e) => lower.endsWith(e));
}

function visible(dir: string): { name: string; stat: Stats }[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (e) {
    throw new InputFileError(dir, `cannot be listed (${(e as Error).message})`);
  }
  return names.filter((n) => !n.startsWith(".")).sort().map((name) => ({ name, stat: statSync(join(dir, name)) }));
}

/** The folders that are classes: subfolders holding at least one file or folder that is not hidden. */
function classFolders(dir: string): string[] {
  return visible(dir).filter((e) => e.stat.isDirectory()).map((e) => e.name);
}

/** Whether `dir` looks like one ImageFolder split: class folders with images in them. */
function hasClassFoldersWithImages(dir: string): boolean {
  try {
    return classFolders(dir).some((c) => visible(join(dir, c)).some((e) => e.stat.isFile() && isImage(e.name)));
  } catch {
    return false;
  }
}

/** The folder of a split: `train/`; `test/` or else `val/`. A DIR of class folders is its own train split. */
export function splitFolder(root: string, split: Split): string | undefined {
  const names = split === "train" ? ["train"] : ["test", "val"];
  for (const n of names) {
    const d = join(root, n);
    if (statSync(d, { throwIfNoEntry: false })?.isDirectory()) return d;
  }
  if (split === "train" && !names.some((n) => statSync(join(root, n), { throwIfNoEntry: false })) && hasClassFoldersWithImages(root)) return root;
  return undefined;
}

/** Whether `root` is an image-folder dataset (train/ or test/ or val/ of class folders, or class folders). */
export function detectFolder(root: string): boolean {
  return ["train", "test", "val"].some((n) => hasClassFoldersWithImages(join(root, n))) || hasClassFoldersWithImages(root);
}

/** Lists one split: class folders in sorted order, the image files of each, sorted. */
export function listSplit(root: string, split: Split): FolderListing {
  const dir = splitFolder(root, split);
  if (!dir) {
    throw new InputFileError(root, split === "train"
      ? "has no train/ folder of class folders (the ImageFolder layout: DIR/train/<class>/*.png, DIR/val/<class>/*.png)"
      : "has no test/ or val/ folder of class folders, so there is nothing to evaluate on (the ImageFolder layout: DIR/train/<class>/*.png, DIR/val/<class>/*.png)");
  }
  const classNames = classFolders(dir);
  if (classNames.length === 0) throw new InputFileError(dir, "holds no class folders (put each class's images in a folder named after the class)");
  const entries: ImageEntry[] = [];
  let ignored = 0;
  const empty: string[] = [];
  classNames.forEach((name, label) => {
    let images = 0;
    for (const e of visible(join(dir, name))) {
      if (!e.stat.isFile()) continue;
      if (!isImage(e.name)) {
        ignored++;
        continue;
      }
      entries.push({ file: join(dir, name, e.name), label, size: e.stat.size, mtimeMs: e.stat.mtimeMs });
      images++;
    }
    if (images === 0) empty.push(name);
  });
  if (empty.length > 0) {
    throw new InputFileError(join(dir, empty[0]!), `is an empty class folder: ${empty.length === 1 ? "it has" : `${empty.length} class folders (${empty.join(", ")}) have`} no ${IMAGE_EXTENSIONS.join("/")} images; add images or remove the folder`);
  }
  return { dir, classNames, entries, ignored };
}

/**
 * Train and test must name the same classes, in the same order, or class i means different
 * things in each: a missing or extra class is named.
 */
export function checkSameClasses(train: FolderListing, test: FolderListing): void {
  const missing = train.classNames.filter((c) => !test.classNames.includes(c));
  const extra = test.classNames.filter((c) => !train.classNames.includes(c));
  if (missing.length > 0) throw new InputFileError(test.dir, `has no folder for class${missing.length > 1 ? "es" : ""} ${missing.map((c) => `'${c}'`).join(", ")} of ${train.dir}; every training class needs a test folder (the class numbers follow the sorted folder names)`);
  if (extra.length > 0) throw new InputFileError(test.dir, `has class${extra.length > 1 ? "es" : ""} ${extra.map((c) => `'${c}'`).join(", ")} that ${train.dir} does not; the model never learns ${extra.length > 1 ? "them" : "it"}`);
}
