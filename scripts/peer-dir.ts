/**
 * Where the PyTorch peer lives: scripts/peer holds it (fmnist_space.py, the fmnist-small supernet
 * in PyTorch, and torch_reference.py, its training and inference timings), so benchmarks run from
 * a clean clone. BNNAS_BENCH_DIR points elsewhere.
 * Works from scripts/ (tsx) and from dist/scripts/ (compiled).
 */
import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
export const REPO_DIR = [resolve(here, ".."), resolve(here, "../..")].find((d) => existsSync(join(d, "scripts/peer/torch_reference.py"))) ?? resolve(here, "..");
export const PEER_DIR = process.env.BNNAS_BENCH_DIR ?? join(REPO_DIR, "scripts/peer");
