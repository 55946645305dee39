/**
 * Class names of the datasets bnnas knows by format, and a `classes.txt` beside any dataset
 * (one name per line) to name the classes of the others. Names travel with the model (the
 * training record, the subnet manifest) so `eval` and `serve` can say "Sneaker", not "7".
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { InputFileError } from "../errors.js";

export const FASHION_MNIST_CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"];

export const CIFAR10_CLASSES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"];

/** CIFAR-100's fine labels in label order (the dataset's fine_label_names). */
export const CIFAR100_CLASSES = [
  "apple", "aquarium_fish", "baby", "bear", "beaver", "bed", "bee", "beetle", "bicycle", "bottle",
  "bowl", "boy", "bridge", "bus", "butterfly", "camel", "can", "castle", "caterpillar", "cattle",
  "chair", "chimpanzee", "clock", "cloud", "cockroach", "couch", "crab", "crocodile", "cup", "dinosaur",
  "dolphin", "elephant", "flatfish", "forest", "fox", "girl", "hamster", "house", "kangaroo", "keyboard",
  "lamp", "lawn_mower", "leopard", "lion", "lizard", "lobster", "man", "maple_tree", "motorcycle", "mountain", "mouse",
  "mushroom", "oak_tree", "orange", "orchid", "otter", "palm_tree", "pear", "pickup_truck", "pine_tree", "plain",
  "plate", "poppy", "porcupine", "possum", "rabbit", "raccoon", "ray", "road", "rocket", "rose",
  "sea", "seal", "shark", "shrew", "skunk", "skyscraper", "snail", "snake", "spider", "squirrel",
  "streetcar", "sunflower", "sweet_pepper", "table", "tank", "telephone", "television", "tiger", "tractor", "train",
  "trout", "tulip", "turtle", "wardrobe", "whale", "willow_tree", "wolf", "woman", "worm",
];

/** "0", "1", ... for data that names nothing. */
export function indexNames(count: number): string[] {
  return Array.from({ length: count }, (_, i) => String(i));
}

/**
 * Names from a text file of one name per line (blank lines ignored), as CIFAR ships
 * batches.meta.txt and fine_label_names.txt; undefined when the file does not exist.
 */
export function readNameFile(file: string): string[] | undefined {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw new InputFileError(file, `cannot be read (${(e as Error).message})`);
  }
  return text.split(/\r?\n/).map((s) => s.trim()).filter((s) => s !== "");
}

/**
 * The names for `count` classes: `classes.txt` in `dir` when present (it must name at least
 * `count` classes), else `fallback` when it is long enough, else indices.
 */
export function classNamesFor(dir: string, count: number, fallback?: readonly string[]): string[] {
  const file = join(dir, "classes.txt");
  const given = readNameFile(file);
  if (given) {
    if (given.length < count) throw new InputFileError(file, `names ${given.length} classes but the data has labels up to ${count - 1}; give one name per line for each class`);
    return given;
  }
  if (fallback && fallback.length >= count) return fallback.slice(0, Math.max(count, fallback.length));
  return indexNames(count);
}
